package smart

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

func TestAuditEvent(t *testing.T) {
	g := grantOf(t, "patient/CarePlan.rs launch/patient", "p1")
	g.ClientID, g.FHIRUser = "careplan-app", "Practitioner/dr1"
	b := AuditEvent(g, AuditRequest{Method: "GET", Path: "/fhir/CarePlan", Query: "patient=p1&status=active",
		Interaction: InteractionSearch, ResourceType: "CarePlan", Outcome: 200, Recorded: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)})
	var ev struct {
		ResourceType, Action, Outcome, Recorded string
		Subtype                                 []struct{ Code string }
		Agent                                   []struct {
			Who       struct{ Reference, Display string }
			Requestor bool
			Policy    []string
		}
		Entity []struct {
			What  struct{ Reference string }
			Role  struct{ Code string }
			Query string
		}
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ResourceType != "AuditEvent" || ev.Action != "E" || ev.Outcome != "0" || ev.Subtype[0].Code != "search-type" || ev.Recorded != "2025-01-02T03:04:05Z" {
		t.Errorf("event %s", b)
	}
	if len(ev.Agent) != 2 || ev.Agent[0].Who.Display != "careplan-app" || ev.Agent[1].Who.Reference != "Practitioner/dr1" || !ev.Agent[1].Requestor {
		t.Errorf("agents %+v", ev.Agent)
	}
	if len(ev.Entity) != 3 || ev.Entity[0].What.Reference != "Patient/p1" || ev.Entity[0].Role.Code != "1" {
		t.Fatalf("entities %+v", ev.Entity)
	}
	q, _ := base64.StdEncoding.DecodeString(ev.Entity[2].Query)
	if string(q) != "/fhir/CarePlan?patient=p1&status=active" || ev.Entity[2].Role.Code != "24" {
		t.Errorf("query entity %q", q)
	}
	// Refused before authentication: no grant, serious/minor outcome codes.
	var denied struct{ Outcome, Action string }
	_ = json.Unmarshal(AuditEvent(nil, AuditRequest{Method: "DELETE", Path: "/fhir/Patient/p2", Outcome: 401}), &denied)
	if denied.Outcome != "4" || denied.Action != "D" {
		t.Errorf("denied event %+v", denied)
	}
}

// TestPatientSummary: the picker shows the official name, else the usual one, else the
// first, as text or given and family names, and the birth date; a patient it cannot
// read is still listed, by id.
func TestPatientSummary(t *testing.T) {
	cases := []struct{ body, name, birth string }{
		{`{"resourceType":"Patient","name":[{"use":"maiden","family":"Durand"},{"use":"official","family":"Martin","given":["Anne","Marie"]}],"birthDate":"1950-01-02"}`, "Anne Marie Martin", "1950-01-02"},
		{`{"resourceType":"Patient","name":[{"family":"Premier"},{"use":"usual","text":"Annie M."}]}`, "Annie M.", ""},
		{`{"resourceType":"Patient","name":[{"family":"Seul"}]}`, "Seul", ""},
		{`{"resourceType":"Patient","gender":"banana"}`, "", ""}, // stored before base R4 checks: unreadable
	}
	for _, c := range cases {
		s := patientSummary(&fhir.Record{Type: "Patient", ID: "p1", Body: []byte(c.body)})
		if s.ID != "p1" || s.Name != c.name || s.BirthDate != c.birth {
			t.Errorf("%s: %+v, want %q %q", c.body, s, c.name, c.birth)
		}
	}
}
