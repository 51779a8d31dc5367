package search

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"testing"

	"github.com/gofhir/fhirpath/eval"
)

// servedTypes are the resource types the gateway serves; all their official
// expressions must compile and evaluate.
var servedTypes = []string{"Patient", "Practitioner", "PractitionerRole", "Organization",
	"ServiceRequest", "CarePlan", "MedicationRequest", "Medication", "Device", "Procedure",
	"Observation", "DiagnosticReport", "DocumentReference", "Consent", "Communication",
	"Encounter", "CareTeam", "Bundle", "MedicationStatement", "Condition", "AuditEvent",
	"Subscription"}

func newTestRegistry(t testing.TB) *Registry {
	t.Helper()
	r, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// loadExamples reads the official R4 examples committed in testdata (see gen_data.go).
func loadExamples(t testing.TB) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/examples.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRegistryLoadsOfficialParameters(t *testing.T) {
	r := newTestRegistry(t)
	n := 0
	for _, typ := range servedTypes {
		for _, p := range r.Params(typ) {
			if p.Expression == "" {
				continue
			}
			if _, err := p.compiled(); err != nil {
				t.Errorf("%s.%s: %v", typ, p.Code, err)
			}
			n++
		}
	}
	// The official bundle has 361 (type, parameter) pairs with an expression for
	// these types, plus the 6 Resource-level ones with an expression (_id,
	// _lastUpdated, _profile, _security, _source, _tag) on each type.
	if want := 361 + 6*len(servedTypes); n != want {
		t.Errorf("expressions for the served types = %d, want %d", n, want)
	}
	for _, c := range []string{"_id", "_lastUpdated", "_profile", "_tag", "_security", "_source"} {
		if p := r.Lookup("Patient", c); p == nil || p.Expression == "" {
			t.Errorf("Patient.%s missing or without expression: %+v", c, p)
		}
	}
	if p := r.Lookup("Patient", "_id"); p.Expression != "Patient.id" {
		t.Errorf("Patient._id expression = %q, want Patient.id", p.Expression)
	}
	if p := r.Lookup("Condition", "code"); p == nil || p.Expression != "Condition.code" {
		t.Errorf("Condition.code not narrowed to its branch: %+v", p)
	}
	if r.Lookup("Patient", "nonesuch") != nil {
		t.Error("Lookup of an unknown code returned a parameter")
	}
}

func TestIndexOfficialExamples(t *testing.T) {
	r := newTestRegistry(t)
	seen := map[string]int{}
	for _, ex := range loadExamples(t) {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal(ex, &head); err != nil {
			t.Fatal(err)
		}
		entries, err := r.Index(head.ResourceType, ex)
		if err != nil {
			t.Errorf("%s/%s: %v", head.ResourceType, head.ID, err)
			continue
		}
		if head.ResourceType != "Bundle" && len(entries) == 0 {
			t.Errorf("%s/%s: no index entries", head.ResourceType, head.ID)
		}
		seen[head.ResourceType]++
	}
	for _, typ := range servedTypes {
		if seen[typ] == 0 {
			t.Errorf("no example of %s in testdata", typ)
		}
	}
}

// TestBranchPruningIsExact checks the indexer's shortcuts (branches.go, model.go)
// against plain evaluation of the whole expression without a model: on every official example, every parameter
// must yield the same keys both ways.
func TestBranchPruningIsExact(t *testing.T) {
	r := newTestRegistry(t)
	for _, ex := range loadExamples(t) {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal(ex, &head); err != nil {
			t.Fatal(err)
		}
		present := topLevel(ex)
		for _, p := range r.indexed(head.ResourceType) {
			if p.Type == "composite" {
				continue // components are compared through TestIndexOfficialExamples
			}
			expr, err := p.compiled()
			if err != nil {
				t.Fatal(err)
			}
			fast, err1 := p.evaluate(&lazyContext{body: ex}, expr, present, false)
			plain := eval.NewContext(ex) // no model, no shortcut: the engine as shipped
			plain.SetResolver(typeResolver{})
			slow, err2 := expr.EvaluateWithContext(plain)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s/%s %s: %v / %v", head.ResourceType, head.ID, p.Code, err1, err2)
			}
			var kf, ks [][]byte
			for _, v := range fast {
				kf = valueKeys(p.Type, v, kf)
			}
			for _, v := range slow {
				ks = valueKeys(p.Type, v, ks)
			}
			if !sameKeySet(kf, ks) {
				t.Errorf("%s/%s %s (%s): pruned keys %q, whole-expression keys %q",
					head.ResourceType, head.ID, p.Code, p.Expression, kf, ks)
			}
		}
	}
}

func sameKeySet(a, b [][]byte) bool {
	set := func(ks [][]byte) map[string]bool {
		m := map[string]bool{}
		for _, k := range ks {
			m[string(k)] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	if len(sa) != len(sb) {
		return false
	}
	for k := range sa {
		if !sb[k] {
			return false
		}
	}
	return true
}

func TestRestrictLimitsIndexAndQuery(t *testing.T) {
	r := newTestRegistry(t)
	r.Restrict("AuditEvent", "_id", "_lastUpdated", "date", "outcome")
	body := []byte(`{"resourceType":"AuditEvent","id":"a1","recorded":"2026-01-01T00:00:00Z","outcome":"0","action":"R"}`)
	entries, err := r.Index("AuditEvent", body)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]bool{}
	for _, e := range entries {
		params[e.Param] = true
	}
	if !params["date"] || !params["outcome"] || params["action"] {
		t.Fatalf("indexed params %v", params)
	}
	if _, _, ferr := r.ParseQuery("AuditEvent", url.Values{"action": {"R"}}, true); ferr == nil {
		t.Fatal("a parameter outside the restriction was accepted in strict mode")
	}
	if r.Lookup("Patient", "family") == nil {
		t.Fatal("Restrict leaked onto another type")
	}
}
