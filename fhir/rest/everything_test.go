package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// testCompartment is the slice of the R4 patient compartment these tests use (the
// gateway passes server/smart's full table).
func testCompartment(typ string) []string {
	return map[string][]string{
		"Patient": {"link"}, "Observation": {"subject", "performer"}, "MedicationRequest": {"subject"},
		"Device": {"patient"},
	}[typ]
}

func mustCreate(t testing.TB, s *rest.Service, body string) string {
	t.Helper()
	var probe struct{ ResourceType string }
	json.Unmarshal([]byte(body), &probe)
	resp, err := s.Create(ctx, &rest.Request{Method: http.MethodPost, Type: probe.ResourceType, Body: []byte(body)})
	if err != nil {
		t.Fatalf("create %s: %v", probe.ResourceType, err)
	}
	return resp.Record.ID
}

func obs(patient, practitioner, text string) string {
	return fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":%q},"subject":{"reference":"Patient/%s"},"performer":[{"reference":"Practitioner/%s"}]}`, text, patient, practitioner)
}

// everythingPages follows the next links to the end and returns the entries'
// Type/id and the bodies by Type/id.
func everythingPages(t *testing.T, s *rest.Service, id string, q url.Values, between func(page int)) ([]string, map[string]string) {
	t.Helper()
	var keys []string
	bodies := map[string]string{}
	for page := 0; ; page++ {
		resp, err := s.Everything(ctx, &rest.Request{Type: "Patient", ID: id, Query: q}, testCompartment)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		var b fhir.Bundle
		if err := json.Unmarshal(resp.Body, &b); err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Entry {
			var r struct{ ResourceType, ID string }
			json.Unmarshal(e.Resource, &r)
			keys = append(keys, r.ResourceType+"/"+r.ID)
			bodies[r.ResourceType+"/"+r.ID] = string(e.Resource)
		}
		next := ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				next = l.URL
			}
		}
		if next == "" {
			return keys, bodies
		}
		u, _ := url.Parse(next)
		q = u.Query()
		if between != nil {
			between(page)
		}
	}
}

// TestEverythingPagesOneSnapshot pages through a patient's $everything while others
// create, update and delete the patient's resources: each resource of the snapshot
// comes exactly once, as it was, nothing written after it appears, and nothing of
// another patient shows.
func TestEverythingPagesOneSnapshot(t *testing.T) {
	s := newService(t)
	doc := mustCreate(t, s, `{"resourceType":"Practitioner","name":[{"family":"Algo"}]}`)
	med := mustCreate(t, s, `{"resourceType":"Medication","code":{"text":"morphine 50 mg/mL"}}`)
	p := mustCreate(t, s, `{"resourceType":"Patient","name":[{"family":"Martin"}]}`)
	other := mustCreate(t, s, `{"resourceType":"Patient","name":[{"family":"Other"}]}`)
	otherDoc := mustCreate(t, s, `{"resourceType":"Practitioner","name":[{"family":"Elsewhere"}]}`)
	mustCreate(t, s, obs(other, otherDoc, "theirs"))
	want := map[string]bool{"Patient/" + p: true, "Practitioner/" + doc: true, "Medication/" + med: true}
	var obsIDs []string
	for i := 0; i < 25; i++ {
		id := mustCreate(t, s, obs(p, doc, fmt.Sprintf("mine %d", i)))
		obsIDs = append(obsIDs, id)
		want["Observation/"+id] = true
	}
	mr := mustCreate(t, s, fmt.Sprintf(`{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/%s"},"medicationReference":{"reference":"Medication/%s"}}`, p, med))
	want["MedicationRequest/"+mr] = true

	keys, bodies := everythingPages(t, s, p, url.Values{"_count": {"4"}}, func(page int) {
		mustCreate(t, s, obs(p, doc, "written while paging"))
		switch page {
		case 0: // change one resource not yet sent: it must come as it was
			_, err := s.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "Observation", ID: obsIDs[24],
				Body: []byte(strings.Replace(obs(p, doc, "changed"), `{"resourceType":"Observation",`, `{"resourceType":"Observation","id":"`+obsIDs[24]+`",`, 1))})
			if err != nil {
				t.Fatal(err)
			}
		case 1: // delete one not yet sent: it was there at the snapshot
			if _, err := s.Delete(ctx, &rest.Request{Method: http.MethodDelete, Type: "Observation", ID: obsIDs[23]}); err != nil {
				t.Fatal(err)
			}
		}
	})
	seen := map[string]int{}
	for _, k := range keys {
		seen[k]++
	}
	for k := range want {
		if seen[k] != 1 {
			t.Errorf("%s came %d times, want once", k, seen[k])
		}
	}
	for k := range seen {
		if !want[k] {
			t.Errorf("%s is not in the snapshot (another patient's, or written after it)", k)
		}
	}
	if b := bodies["Observation/"+obsIDs[24]]; !strings.Contains(b, "mine 24") {
		t.Errorf("updated resource not shown as of the snapshot: %s", b)
	}
}

// TestEverythingParameters checks _type, _since and the 4xx of bad input.
func TestEverythingParameters(t *testing.T) {
	s := newService(t)
	doc := mustCreate(t, s, `{"resourceType":"Practitioner"}`)
	p := mustCreate(t, s, `{"resourceType":"Patient"}`)
	mustCreate(t, s, obs(p, doc, "a"))
	keys, _ := everythingPages(t, s, p, url.Values{"_type": {"Observation"}}, nil)
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "Observation/") {
		t.Errorf("_type=Observation gave %v", keys)
	}
	keys, _ = everythingPages(t, s, p, url.Values{"_type": {"Practitioner"}}, nil)
	if len(keys) != 1 || keys[0] != "Practitioner/"+doc {
		t.Errorf("_type=Practitioner gave %v, want the practitioner the record cites", keys)
	}
	keys, _ = everythingPages(t, s, p, url.Values{"_since": {"2999-01-01T00:00:00Z"}}, nil)
	if len(keys) != 0 {
		t.Errorf("_since in the future gave %v", keys)
	}
	for _, q := range []url.Values{{"_type": {"Foo"}}, {"_since": {"yesterday"}}, {"start": {"31/12/2025"}}, {"_count": {"-1"}}, {"_cursor": {"garbage!"}}, {"bogus": {"1"}}} {
		_, err := s.Everything(ctx, &rest.Request{Type: "Patient", ID: p, Query: q}, testCompartment)
		if fe := fhir.AsError(err); err == nil || fe.Status != http.StatusBadRequest {
			t.Errorf("%v: got %v, want 400", q, err)
		}
	}
	resp, err := s.Everything(ctx, &rest.Request{Type: "Patient", ID: p, Query: url.Values{"_count": {"0"}}}, testCompartment)
	if err != nil || !strings.Contains(string(resp.Body), `"total":3`) || strings.Contains(string(resp.Body), `"entry"`) {
		t.Errorf("_count=0: %v %s", err, resp.Body)
	}
	if _, err := s.Everything(ctx, &rest.Request{Type: "Patient", ID: "nope", Query: url.Values{}}, testCompartment); fhir.AsError(err).Status != http.StatusNotFound {
		t.Errorf("unknown patient: %v", err)
	}
}

// patientAccess is a patient-context grant on everything.
type patientAccess struct{ patient string }

func (a patientAccess) Allows(string, string) bool              { return true }
func (a patientAccess) Patient(string, string) string           { return a.patient }
func (a patientAccess) CompartmentParams(typ string) []string   { return testCompartment(typ) }
func (a patientAccess) Constraints(string, string) []url.Values { return nil }

// TestEverythingConfinedToTokenPatient: a patient-context token gets its own patient
// only, and never the type-level operation.
func TestEverythingConfinedToTokenPatient(t *testing.T) {
	s := newService(t)
	a := mustCreate(t, s, `{"resourceType":"Patient"}`)
	b := mustCreate(t, s, `{"resourceType":"Patient"}`)
	if _, err := s.Everything(ctx, &rest.Request{Type: "Patient", ID: b, Query: url.Values{}, Access: patientAccess{a}}, testCompartment); fhir.AsError(err).Status != http.StatusForbidden {
		t.Errorf("other patient: %v, want 403", err)
	}
	if _, err := s.Everything(ctx, &rest.Request{Type: "Patient", Query: url.Values{}, Access: patientAccess{a}}, testCompartment); fhir.AsError(err).Status != http.StatusForbidden {
		t.Errorf("type level with a patient token: %v, want 403", err)
	}
	if _, err := s.Everything(ctx, &rest.Request{Type: "Patient", ID: a, Query: url.Values{}, Access: patientAccess{a}}, testCompartment); err != nil {
		t.Errorf("own patient: %v", err)
	}
}

// BenchmarkEverything1000 is $everything of a patient with 1,000 resources (990
// Observations, a MedicationRequest, practitioners), in one page of 1,000.
func BenchmarkEverything1000(b *testing.B) {
	s := newService(b)
	s.MaxPageSize = 1000
	docs := []string{}
	for i := 0; i < 8; i++ {
		docs = append(docs, mustCreate(b, s, `{"resourceType":"Practitioner"}`))
	}
	p := mustCreate(b, s, `{"resourceType":"Patient"}`)
	for i := 0; i < 990; i++ {
		mustCreate(b, s, obs(p, docs[i%len(docs)], fmt.Sprintf("o%d", i)))
	}
	q := url.Values{"_count": {"1000"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := s.Everything(ctx, &rest.Request{Type: "Patient", ID: p, Query: q}, testCompartment)
		if err != nil || !strings.Contains(string(resp.Body), `"total":999`) {
			b.Fatalf("%v %.200s", err, resp.Body)
		}
	}
}

// TestEverythingCareDates: start and end keep the resources whose clinical date falls
// in the range (types without a date parameter are kept); the type level pages every
// patient for an unconfined client.
func TestEverythingCareDates(t *testing.T) {
	s := newService(t)
	p := mustCreate(t, s, `{"resourceType":"Patient"}`)
	q := mustCreate(t, s, `{"resourceType":"Patient"}`)
	dated := func(patient, when string) string {
		return mustCreate(t, s, fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/%s"},"effectiveDateTime":%q}`, patient, when))
	}
	old, recent := dated(p, "2025-02-01"), dated(p, "2026-02-01")
	dated(q, "2026-02-02")
	keys, _ := everythingPages(t, s, p, url.Values{"start": {"2026-01-01"}}, nil)
	if strings.Join(keys, " ") != "Observation/"+recent+" Patient/"+p {
		t.Errorf("start=2026-01-01: %v (old %s)", keys, old)
	}
	keys, _ = everythingPages(t, s, p, url.Values{"end": {"2025-12-31"}}, nil)
	if strings.Join(keys, " ") != "Observation/"+old+" Patient/"+p {
		t.Errorf("end=2025-12-31: %v", keys)
	}
	keys, _ = everythingPages(t, s, "", url.Values{"_count": {"2"}}, nil)
	if len(keys) != 5 {
		t.Errorf("type level: %v, want the 2 patients and their 3 observations", keys)
	}
}
