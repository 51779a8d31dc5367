package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// fidelityTypes are the resource types of the AIT and IR pathways whose every
// official R4 example must come back unchanged (issue #2, "Fidelity on real data").
var fidelityTypes = []string{
	"Patient", "Practitioner", "PractitionerRole", "Organization", "ServiceRequest",
	"CarePlan", "MedicationRequest", "Medication", "Device", "Procedure", "Observation",
	"DiagnosticReport", "DocumentReference", "Consent", "Communication", "Encounter",
	"CareTeam", "Bundle",
}

// minBodyLimit is the smallest body size limit the gateway may have: referral
// Bundles with attached documents are of this order.
const minBodyLimit = 4 << 20

// fidelityResult is the outcome of one example.
type fidelityResult struct {
	ex       Example
	tooLarge bool     // answered 413: over the server's body limit
	problems []string // empty when the round trip kept everything
	refused  bool     // an invalid example, refused as it must be (invalidOfficialExamples)
}

// invalidOfficialExamples are the official examples of fidelityTypes that base R4
// forbids (HL7's validator refuses them too): the gateway must refuse them with the
// rule named in the OperationOutcome. See profiles' officialrefusals_test.go.
var invalidOfficialExamples = map[string]string{
	"Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json": "does not end with the resource's type and id",
	"Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json": "does not end with the resource's type and id",
	"Bundle-lri-example.json":                          "does not end with the resource's type and id",
	"Bundle-types.json":                                "must reference the resource (#id) or be inline",
	"Bundle-v2-valuesets.json":                         "ext-1",
	"Consent-consent-example-pkb.json":                 "must reference the resource (#id) or be inline",
}

// TestFidelityOfficialExamples stores every official R4 example of fidelityTypes
// (PUT with its id for every other example, POST for the rest and for examples
// without id), reads it back and compares the JSON semantically, numbers by their
// literal text. Only id and meta.versionId/lastUpdated may differ.
func TestFidelityOfficialExamples(t *testing.T) {
	dir, err := ExamplesDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	examples, err := LoadExamples(dir, fidelityTypes)
	if err != nil {
		t.Fatal(err)
	}
	if len(examples) < 303 { // 4.0.1 holds 303 of these; fewer means a broken fetch
		t.Fatalf("only %d examples found in %s", len(examples), dir)
	}
	g := startGateway(t)
	c := g.Client()

	results := make([]fidelityResult, len(examples))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = roundTrip(c, examples[i], i%2 == 1)
			}
		}()
	}
	for i := range examples {
		next <- i
	}
	close(next)
	wg.Wait()

	perType := map[string]int{}
	failed, tooLarge, refused := 0, 0, 0
	for _, r := range results {
		switch {
		case r.refused:
			refused++
		case r.tooLarge && len(r.ex.Body) < minBodyLimit:
			failed++
			t.Errorf("%s (%d bytes): 413, but a gateway must accept bodies up to %d bytes", r.ex.File, len(r.ex.Body), minBodyLimit)
		case r.tooLarge:
			tooLarge++
			t.Logf("%s (%d bytes): 413, over the server's body size limit", r.ex.File, len(r.ex.Body))
		case len(r.problems) > 0:
			failed++
			t.Errorf("%s: round trip changed the resource:\n  %s", r.ex.File, strings.Join(r.problems, "\n  "))
		default:
			perType[r.ex.Type]++
		}
	}
	var lines []string
	total := 0
	for _, typ := range fidelityTypes {
		lines = append(lines, fmt.Sprintf("%s=%d", typ, perType[typ]))
		total += perType[typ]
	}
	t.Logf("fidelity: %d official R4 examples round-tripped unchanged (%s); %d failed; %d refused as over the size limit; %d refused as invalid R4",
		total, strings.Join(lines, " "), failed, tooLarge, refused)
	fmt.Printf("fidelity: checked %d examples, %d identical: %s\n", len(examples), total, strings.Join(lines, " "))
}

// roundTrip stores one example (PUT with its id when put is set and it has one, POST
// otherwise), reads it back and returns what differs.
func roundTrip(c *Client, ex Example, put bool) fidelityResult {
	r := fidelityResult{ex: ex}
	fail := func(format string, args ...any) fidelityResult {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
		return r
	}
	var resp *Response
	var err error
	if put && ex.ID != "" {
		resp, err = c.Do(http.MethodPut, ex.Type+"/"+ex.ID, ex.Body, nil)
	} else {
		resp, err = c.Do(http.MethodPost, ex.Type, ex.Body, nil)
	}
	if err != nil {
		return fail("write: %v", err)
	}
	if resp.Status == http.StatusRequestEntityTooLarge {
		r.tooLarge = true
		return r
	}
	if rule, invalid := invalidOfficialExamples[ex.File]; invalid {
		// refused with a 4xx naming the rule, or it is a failure
		if resp.Status < 400 || resp.Status >= 500 || !strings.Contains(string(resp.Body), rule) {
			return fail("an invalid example (%s) must be refused naming the rule: %s", rule, resp)
		}
		r.refused = true
		return r
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return fail("write: %s", resp)
	}
	id := ex.ID
	if !(put && ex.ID != "") {
		loc := resp.Header.Get("Location")
		if loc == "" {
			return fail("POST answered %d without a Location header", resp.Status)
		}
		id = IDFromLocation(loc)
	}
	got, err := c.Do(http.MethodGet, ex.Type+"/"+id, nil, nil)
	if err != nil {
		return fail("read: %v", err)
	}
	if got.Status != http.StatusOK {
		return fail("GET %s/%s: %s", ex.Type, id, got)
	}
	gotObj, err := got.Object()
	if err != nil {
		return fail("GET %s/%s: %v", ex.Type, id, err)
	}
	if gotObj["id"] != id {
		r.problems = append(r.problems, fmt.Sprintf("%s.id: expected %q, got %v", ex.Type, id, gotObj["id"]))
	}
	if meta, _ := gotObj["meta"].(map[string]any); meta == nil || meta["versionId"] == nil || meta["lastUpdated"] == nil {
		r.problems = append(r.problems, ex.Type+".meta: versionId and lastUpdated must be set by the server")
	}
	wantAny, err := DecodeJSON(ex.Body)
	if err != nil {
		return fail("example does not parse: %v", err)
	}
	want := wantAny.(map[string]any)
	StripServerMeta(want)
	StripServerMeta(gotObj)
	r.problems = append(r.problems, Diff(want, gotObj, ex.Type, 12)...)
	return r
}
