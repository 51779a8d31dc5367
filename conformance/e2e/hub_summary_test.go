package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/profiles"
)

// ipsValidator is the project validator with the IPS package loaded.
func ipsValidator(t *testing.T) *profiles.Validator {
	t.Helper()
	tgz, err := profiles.FetchNPM(context.Background(), profiles.IPSPackage, profiles.IPSVersion)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := profiles.LoadNPM(tgz)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err = v.WithExternal(ext)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestHubSummaryAndDocuments runs the AIT pathway to the third refill over HTTP, then
// pulls the patient's IPS summary ($summary, validated against hl7.fhir.uv.ips
// 2.0.0) and finds the stored summary document as a DMP hub does: by INS, type and
// status (ITI-67), then its Binary (ITI-68); the earlier ones are superseded.
func TestHubSummaryAndDocuments(t *testing.T) {
	v := ipsValidator(t)
	g := startGateway(t)
	c := g.Client()
	d, _ := postReferral(t, c)
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range kit.AITSteps(d, cast) {
		if _, err := (httpPoster{c}).Create(s.Body); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
	}
	pid := strings.TrimPrefix(d.Patient, "Patient/")
	// the implanting centre records the pump: the guide's examples, for this patient
	centre := postExample(t, c, "Organization", "ait-implanting-centre-example", nil)
	postExample(t, c, "Device", "ait-pump-example", map[string]string{
		"Patient/ait-patient-example": d.Patient, "Organization/ait-implanting-centre-example": centre})
	r := mustDo(t, c, "GET", "Patient/"+pid+"/$summary", nil, nil, 200)
	oo := v.Validate(r.Body, "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips")
	for _, is := range oo.Issue {
		if is.Severity == "error" || is.Severity == "fatal" {
			t.Errorf("$summary is not valid IPS: %s %v", is.Diagnostics, is.Expression)
		}
	}
	for _, want := range []string{`"60591-5"`, "Mélange intrathécal", "réservoir 40 mL", "extrémité du cathéter en D5", "prochain remplissage le 18/07/2026", `"10160-0"`, `"46264-8"`, `"18776-5"`} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("$summary lacks %s", want)
		}
	}

	var p struct {
		Identifier []struct{ System, Value string }
	}
	json.Unmarshal(mustDo(t, c, "GET", d.Patient, nil, nil, 200).Body, &p)
	ins := ""
	for _, id := range p.Identifier {
		if id.System == "urn:oid:1.2.250.1.213.1.4.8" {
			ins = id.System + "|" + id.Value
		}
	}
	if ins == "" {
		t.Fatal("the referral's patient has no INS")
	}
	q := url.Values{"patient.identifier": {ins}, "type": {"http://loinc.org|60591-5"}}
	all := bundleIDs(t, mustDo(t, c, "GET", "DocumentReference?"+q.Encode(), nil, nil, 200))
	q.Set("status", "current")
	cur := mustDo(t, c, "GET", "DocumentReference?"+q.Encode(), nil, nil, 200)
	var b struct {
		Entry []struct {
			Resource struct {
				ID        string
				RelatesTo []struct {
					Code   string
					Target struct{ Reference string }
				}
				Content []struct {
					Attachment struct{ ContentType, URL string }
				}
			}
		}
	}
	json.Unmarshal(cur.Body, &b)
	if len(b.Entry) != 1 || len(all) < 4 {
		t.Fatalf("%d current summary documents of %d (RCP decision, implantation, discharge, refills): %s", len(b.Entry), len(all), cur.Body)
	}
	doc := b.Entry[0].Resource
	if len(doc.RelatesTo) != 1 || doc.RelatesTo[0].Code != "replaces" {
		t.Errorf("relatesTo: %+v", doc.RelatesTo)
	} else {
		var prev struct{ Status string }
		json.Unmarshal(mustDo(t, c, "GET", doc.RelatesTo[0].Target.Reference, nil, nil, 200).Body, &prev)
		if prev.Status != "superseded" {
			t.Errorf("replaced document is %q", prev.Status)
		}
	}
	for _, ct := range doc.Content {
		var bin struct{ ContentType, Data string }
		json.Unmarshal(mustDo(t, c, "GET", ct.Attachment.URL, nil, nil, 200).Body, &bin)
		raw, _ := base64.StdEncoding.DecodeString(bin.Data)
		if bin.ContentType != ct.Attachment.ContentType || len(raw) == 0 {
			t.Errorf("%s: content type %q, %d bytes", ct.Attachment.URL, bin.ContentType, len(raw))
		}
		// ITI-68: asked in its own (non-FHIR) content type, the Binary comes raw
		if !strings.Contains(ct.Attachment.ContentType, "json") {
			rawResp := mustDo(t, c, "GET", ct.Attachment.URL, nil, map[string]string{"Accept": ct.Attachment.ContentType}, 200)
			if got := rawResp.Header.Get("Content-Type"); got != ct.Attachment.ContentType || !bytes.Equal(rawResp.Body, raw) {
				t.Errorf("raw %s: Content-Type %q, %d bytes (want %d)", ct.Attachment.URL, got, len(rawResp.Body), len(raw))
			}
		}
		if bin.ContentType == "application/pdf" && !bytes.HasPrefix(raw, []byte("%PDF-")) {
			t.Errorf("the PDF rendering is not a PDF")
		}
		if bin.ContentType == "application/fhir+json" {
			if oo := v.Validate(raw, "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"); oo.HasErrors() {
				t.Errorf("stored summary not valid IPS: %s", oo.JSON())
			}
		}
	}
	// a patient token reaches its own summary only
	other := createdID(t, c, `{"resourceType":"Patient","name":[{"family":"Autre"}]}`)
	pc := NewClient(g.BaseURL)
	pc.Token = tokenFor(t, g, "patient/*.rs", pid)
	mustDo(t, pc, "GET", "Patient/"+pid+"/$summary", nil, nil, 200)
	mustDo(t, pc, "GET", "Patient/"+other+"/$summary", nil, nil, 403)
	mustDo(t, pc, "GET", "Patient/"+other+"/$everything", nil, nil, 403)
	mustDo(t, pc, "GET", "Patient/$everything", nil, nil, 403)
	// and the summary Binaries of its own patient only (Binary is outside the
	// compartment: its securityContext decides)
	mustDo(t, pc, "GET", doc.Content[0].Attachment.URL, nil, nil, 200)
	theirs := createdID(t, c, `{"resourceType":"Binary","contentType":"text/plain","securityContext":{"reference":"Patient/`+other+`"},"data":"c2VjcmV0"}`)
	mustDo(t, pc, "GET", "Binary/"+theirs, nil, nil, 403)
	mustDo(t, pc, "GET", "Binary", nil, nil, 403)
	mustDo(t, pc, "GET", "Binary/"+theirs, nil, map[string]string{"Accept": "text/plain"}, 403)
	if r := mustDo(t, c, "GET", "Patient/"+pid+"/$nosuchop", nil, nil, 404); !strings.Contains(string(r.Body), "unknown operation") {
		t.Errorf("unknown operation: %s", r.Body)
	}
}

// postExample posts one of the AIT guide's examples, its id dropped and references
// replaced, and returns its new Type/id.
func postExample(t *testing.T, c *Client, typ, id string, refs map[string]string) string {
	t.Helper()
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range pkg.Examples() {
		if ex.Type != typ || ex.ID != id {
			continue
		}
		body := string(ex.Body)
		for from, to := range refs {
			body = strings.ReplaceAll(body, from, to)
		}
		var m map[string]any
		json.Unmarshal([]byte(body), &m)
		delete(m, "id")
		b, _ := json.Marshal(m)
		return typ + "/" + createdID(t, c, string(b))
	}
	t.Fatalf("no example %s/%s", typ, id)
	return ""
}
