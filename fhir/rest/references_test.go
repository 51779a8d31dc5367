package rest_test

import (
	"net/http"
	"testing"

	"github.com/aitgw/aitgw/fhir/rest"
)

// Finding #15.10: a reference to the wrong resource type, or to an AuditEvent, was
// accepted.
func TestReferenceToWrongTypeIsRefused(t *testing.T) {
	s := newService(t)
	obs := func(subject string) []byte {
		return []byte(`{"resourceType":"Observation","status":"final","code":{"text":"pain"},"subject":{"reference":"` + subject + `"}}`)
	}
	_, err := s.Create(ctx, &rest.Request{Type: "Observation", Body: obs("Medication/m1")})
	fe := mustFail(t, err, http.StatusUnprocessableEntity, "invalid")
	if got := fe.Outcome.Issue[0].Expression[0]; got != "Observation.subject.reference" {
		t.Errorf("expression %s", got)
	}
	_, err = s.Create(ctx, &rest.Request{Type: "Observation", Body: obs(base + "/Medication/m1")})
	mustFail(t, err, http.StatusUnprocessableEntity, "invalid")
	expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Observation", Body: obs("Patient/p1")}))
	expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Observation", Body: obs("https://elsewhere.example/fhir/Medication/m1")}))
}

func TestReferenceToAuditEventIsRefused(t *testing.T) {
	s := newService(t)
	_, err := s.Create(ctx, &rest.Request{Type: "Provenance", Body: []byte(`{"resourceType":"Provenance","target":[{"reference":"AuditEvent/a1"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/x"}}]}`)})
	fe := mustFail(t, err, http.StatusUnprocessableEntity, "invalid")
	if got := fe.Outcome.Issue[0].Expression[0]; got != "Provenance.target[0].reference" {
		t.Errorf("expression %s", got)
	}
	_, err = s.Create(ctx, &rest.Request{Type: "Basic", Body: []byte(`{"resourceType":"Basic","code":{"text":"x"},"extension":[{"url":"http://x","valueReference":{"reference":"AuditEvent/a1"}}]}`)})
	mustFail(t, err, http.StatusUnprocessableEntity, "invalid")
}

// Finding #15.10: in a transaction, duplicate fullUrls and dangling urn:uuid
// references passed.
func TestTransactionDuplicateFullURLIsRefused(t *testing.T) {
	s := newService(t)
	body := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"A"}]},"request":{"method":"POST","url":"Patient"}},
	 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"B"}]},"request":{"method":"POST","url":"Patient"}}]}`
	_, err := s.Bundle(ctx, &rest.Request{Body: []byte(body)}, "")
	fe := mustFail(t, err, http.StatusBadRequest, "invalid")
	if got := fe.Outcome.Issue[0].Expression[0]; got != "Bundle.entry[1].fullUrl" {
		t.Errorf("expression %s", got)
	}
	if patientCount(t, s) != 0 {
		t.Fatal("written")
	}
}

func TestTransactionDanglingURNIsRefused(t *testing.T) {
	s := newService(t)
	body := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"A"}]},"request":{"method":"POST","url":"Patient"}},
	 {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059","resource":{"resourceType":"Observation","status":"final","code":{"text":"pain"},"subject":{"reference":"urn:uuid:00000000-0000-4000-8000-000000000000"}},"request":{"method":"POST","url":"Observation"}}]}`
	_, err := s.Bundle(ctx, &rest.Request{Body: []byte(body)}, "")
	fe := mustFail(t, err, http.StatusBadRequest, "not-found")
	if got := fe.Outcome.Issue[0].Expression[0]; got != "Bundle.entry[1].resource.subject.reference" {
		t.Errorf("expression %s", got)
	}
	if patientCount(t, s) != 0 {
		t.Fatal("written")
	}
}

// The wrong-typed references of the official R4 examples (errata) are stored with a
// warning, so that every official example round-trips.
func TestOfficialExampleErrataAreStoredWithAWarning(t *testing.T) {
	s := newService(t)
	r := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Observation", Body: []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"performer":[{"reference":"Encounter/example"}]}`)}))
	if r.Outcome == nil || len(r.Outcome.Issue) == 0 || r.Outcome.Issue[0].Severity != "warning" {
		t.Fatalf("no warning: %+v", r.Outcome)
	}
}
