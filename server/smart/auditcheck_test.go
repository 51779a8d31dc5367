package smart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/search"
	"github.com/aitgw/aitgw/profiles"
)

var (
	validatorOnce sync.Once
	validator     *profiles.Validator
)

// r4Validator is the gateway's validator (base R4 and the AIT guide).
func r4Validator(t testing.TB) *profiles.Validator {
	t.Helper()
	validatorOnce.Do(func() {
		pkg, err := profiles.Load()
		if err != nil {
			t.Fatal(err)
		}
		if validator, err = profiles.NewValidator(pkg); err != nil {
			t.Fatal(err)
		}
	})
	return validator
}

// auditCases are accesses of every shape the log writes (which agents, entities and
// optional elements are present), with the odd values a client can send.
func auditCases(t *testing.T) []pendingAudit {
	t.Helper()
	odd := "app \"x\"\f\x01 é\xff"
	grants := []*Grant{
		nil,
		{ClientID: "hub"},
		grantOf(t, "system/*.rs", ""),
		func() *Grant {
			g := grantOf(t, "patient/*.rs launch/patient openid fhirUser", "p1")
			g.ClientID, g.FHIRUser = "app", "Practitioner/dr1"
			return g
		}(),
		func() *Grant {
			g := grantOf(t, "patient/*.rs", "p2")
			g.ClientID, g.FHIRUser = "portal", "Patient/p2"
			return g
		}(),
		func() *Grant {
			g := grantOf(t, "user/*.rs", "")
			g.ClientID, g.FHIRUser = odd, "https://idp.example/fhir/Practitioner/9"
			return g
		}(),
		func() *Grant { g := grantOf(t, "user/*.rs", ""); g.ClientID, g.FHIRUser = "c", "#local"; return g }(),
	}
	reqs := []AuditRequest{
		{Method: "GET", Path: "/fhir/Patient/p1", Interaction: InteractionRead, ResourceType: "Patient", ResourceID: "p1", PatientID: "p1", Outcome: 200, SourceAddress: "127.0.0.1"},
		{Method: "GET", Path: "/fhir/CarePlan", Query: "patient=p1&status=active", Interaction: InteractionSearch, ResourceType: "CarePlan", Outcome: 200},
		{Method: "POST", Path: "/fhir", Outcome: 200, Observer: "aitgw 10.0.0.1:8080"},
		{Method: "DELETE", Path: "/fhir/Observation/o1", Interaction: InteractionDelete, ResourceType: "Observation", ResourceID: "o1", Outcome: 403},
		{Method: "BREW", Path: "/fhir/" + odd, ResourceType: "Basic", ResourceID: odd, PatientID: odd, Outcome: 599, SourceAddress: odd, Observer: odd},
		{Method: "GET", Outcome: 0},
		{Method: "PATCH", Path: "/fhir/Patient/p3", Interaction: InteractionPatch, ResourceType: "Patient", ResourceID: "p3", PatientID: "p3", Outcome: 500, SourceAddress: "::1"},
	}
	var out []pendingAudit
	for _, g := range grants {
		for _, r := range reqs {
			r.Recorded = time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)
			out = append(out, pendingAudit{grant: g, req: r})
		}
	}
	return out
}

// TestAuditEventsValid: every event the log writes is valid base R4 by the full
// validator, and the fast check (shape once, values always) agrees with it.
func TestAuditEventsValid(t *testing.T) {
	v := r4Validator(t)
	check := newAuditCheck(v)
	var ids auditIDs
	shapes := map[uint64]bool{}
	for i, p := range auditCases(t) {
		a := renderAudit(p.grant, p.req, ids.next(time.Now()), time.Now())
		shapes[a.shape] = true
		if !json.Valid(a.body) {
			t.Fatalf("case %d: invalid JSON %s", i, a.body)
		}
		if oo := v.Validate(a.body); oo != nil && oo.HasErrors() {
			t.Errorf("case %d: full validation refuses the event: %+v\n%s", i, oo.Issue, a.body)
		}
		if oo := check.check(a, p); oo != nil {
			t.Errorf("case %d: fast check refuses a valid event: %+v", i, oo.Issue)
		}
	}
	t.Logf("%d events, %d shapes", len(auditCases(t)), len(shapes))
}

// TestAuditCheckRefuses: the fast check is a check: a bad value or a bad shape is
// refused, as the full validator refuses it.
func TestAuditCheckRefuses(t *testing.T) {
	v := r4Validator(t)
	check := newAuditCheck(v)
	p := pendingAudit{grant: &Grant{ClientID: "hub"}, req: AuditRequest{Method: "GET", Path: "/fhir/Patient", Outcome: 200}}
	a := renderAudit(p.grant, p.req, "0190-x", time.Now())
	a.leaves = append(a.leaves, auditLeaf{typ: "uri", path: "AuditEvent.agent[0].policy[0]", value: "system/*.rs openid"})
	oo := check.check(a, p)
	if oo == nil || oo.Issue[0].Expression[0] != "AuditEvent.agent[0].policy[0]" {
		t.Fatalf("a uri with a space passed the check: %+v", oo)
	}
	// a shape the validator refuses is refused, every time, for every event of it
	strict := newAuditCheck(refuseShape{v})
	for i := 0; i < 2; i++ {
		b := renderAudit(nil, AuditRequest{Method: "GET", Outcome: 200}, fmt.Sprintf("0190-y%d", i), time.Now())
		if oo := strict.check(b, pendingAudit{req: AuditRequest{Method: "GET", Outcome: 200}}); oo == nil || !oo.HasErrors() {
			t.Fatalf("event %d of a refused shape passed the check", i)
		}
	}
}

// refuseShape validates values as v does and refuses every whole resource, like a
// shape with an element outside its value set would be.
type refuseShape struct{ *profiles.Validator }

func (refuseShape) Validate(body []byte, _ ...string) *fhir.OperationOutcome {
	return fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityError, Code: "code-invalid", Expression: []string{"AuditEvent.action"}})
}

// TestAuditShapeHash: events of the same shape hash the same whatever their values;
// events of different shapes differ, and the shape rendered for validation is the
// JSON the hash was taken on (its values are the placeholders).
func TestAuditShapeHash(t *testing.T) {
	g1 := &Grant{ClientID: "hub"}
	g2 := &Grant{ClientID: "another client"}
	r := AuditRequest{Method: "GET", Path: "/fhir/Patient/p1", Interaction: InteractionRead, ResourceType: "Patient", ResourceID: "p1", Outcome: 200}
	a := renderAudit(g1, r, "id-1", time.Now())
	r2 := r
	r2.ResourceID, r2.Path = "other", "/fhir/Patient/other"
	b := renderAudit(g2, r2, "id-2", time.Now().Add(time.Hour))
	if a.shape != b.shape {
		t.Error("same shape, different hashes")
	}
	c := renderAudit(g1, AuditRequest{Method: "GET", Path: "/fhir/Patient/p1", Interaction: InteractionRead, ResourceType: "Patient", ResourceID: "p1", PatientID: "p1", Outcome: 200}, "id-3", time.Now())
	if c.shape == a.shape {
		t.Error("a patient entity more, same hash")
	}
	var s renderedAudit
	s.render(nil, nil, g1, r, "id-1", time.Now(), true)
	if s.shape != a.shape || bytes.Contains(s.body, []byte("hub")) || !bytes.Contains(s.body, []byte(`"id":"x"`)) {
		t.Errorf("shape JSON %s", s.body)
	}
}

// TestAuditEntriesMatchIndex: the index entries the log builds are those FHIRPath
// evaluation of the official AuditEvent search parameters gives on the same JSON.
func TestAuditEntriesMatchIndex(t *testing.T) {
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	reg.Restrict("AuditEvent", AuditSearchParams...)
	var ids auditIDs
	var refs search.RefCache // as the log renders: references' keys remembered
	for round := 0; round < 2; round++ {
		for i, p := range auditCases(t) {
			var a renderedAudit
			a.render(&refs, nil, p.grant, p.req, ids.next(time.Now()), time.Now(), false)
			want, err := reg.Index("AuditEvent", a.body)
			if err != nil {
				t.Fatal(err)
			}
			if got := entrySet(a.entries.List()); !slices.Equal(got, entrySet(want)) {
				t.Errorf("round %d, case %d: entries differ\n got %q\nwant %q\n%s", round, i, got, entrySet(want), a.body)
			}
		}
	}
}

func entrySet(es []fhir.IndexEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Param+" "+fmt.Sprintf("%q", e.Key))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestAuditIDsGrow: ids only grow, within a millisecond, across a clock step back and
// past 4,096 ids in one millisecond.
func TestAuditIDsGrow(t *testing.T) {
	var g auditIDs
	now := time.Now()
	prev := ""
	for i := 0; i < 10000; i++ {
		at := now
		if i == 5000 {
			at = now.Add(-time.Second)
		}
		id := g.next(at)
		if id <= prev || len(id) != 36 || strings.Count(id, "-") != 4 {
			t.Fatalf("id %d %q after %q", i, id, prev)
		}
		prev = id
	}
}
