package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// stepResource builds a step resource as an EHR would post it: a Procedure with the
// step's AIT code and qualifying codes, dated, with optional date extensions.
func stepResource(fact string, when time.Time, qualifiers []string, ext map[string]time.Time) []byte {
	cs := []any{map[string]any{"system": CodeSystemAIT, "code": fact}}
	var outcome []any
	for _, q := range qualifiers {
		outcome = append(outcome, map[string]any{"system": CodeSystemAIT, "code": q})
	}
	r := map[string]any{"resourceType": "Procedure", "status": "completed", "subject": map[string]any{"reference": "Patient/p1"},
		"code": map[string]any{"coding": cs}, "performedDateTime": when.Format(time.RFC3339)}
	if outcome != nil {
		r["outcome"] = map[string]any{"coding": outcome}
	}
	var es []any
	for url, t := range ext {
		es = append(es, map[string]any{"url": url, "valueDateTime": t.Format(time.RFC3339)})
	}
	if es != nil {
		r["extension"] = es
	}
	b, _ := json.Marshal(r)
	return b
}

// statuses reads the activity statuses of a rendered CarePlan, "!" marking overdue.
func statuses(t *testing.T, careplan []byte) string {
	t.Helper()
	m, err := decodeObject(careplan)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range objs(m, "activity") {
		d := obj(a, "detail")
		s := map[string]string{"not-started": "N", "scheduled": "S", "in-progress": "I", "completed": "C", "cancelled": "X"}[str(d, "status")]
		for _, e := range objs(d, "extension") {
			if str(e, "url") == ExtOverdue {
				s += "!"
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func scheduledEnd(t *testing.T, careplan []byte, step int) string {
	m, _ := decodeObject(careplan)
	return str(obj(obj(objs(m, "activity")[step-1], "detail"), "scheduledPeriod"), "end")
}

// TestPathwayFromReferralToThirdRefill drives the AIT pathway through its ten steps
// with step resources, storing and resuming the CarePlan between posts as the server
// does, and checks the CarePlan and the milestones after every step.
func TestPathwayFromReferralToThirdRefill(t *testing.T) {
	res := intake(t, "referral-frcore.json")
	careplan := CarePlanJSON(res.Pathway)
	if got := statuses(t, careplan); got != "C C S N N N N N N N" {
		t.Fatalf("after intake: %s", got)
	}
	algologist := Actor{Role: rules.RoleAlgologist, Reference: "Practitioner/algo"}
	refiller := Actor{Role: rules.RoleRefillCentre, Reference: "Practitioner/refill"}
	steps := []struct {
		name     string
		resource []byte
		actor    Actor
		want     string
		end      map[int]string // step -> scheduledPeriod.end
		told     string         // milestone code and recipients
	}{
		{"rcp", stepResource(rules.FactRCPDecision, at("2026-03-10T14:00:00Z"), []string{CodeRCPAccepted, rules.TechniquePump.Code}, nil), algologist,
			"C C C S N N N N N N", map[int]string{4: "2026-03-17T22:59:59Z"}, "rcp-decision-sent:referring-physician,general-practitioner"},
		{"algology", stepResource(rules.FactAlgologyConsult, at("2026-03-13T10:00:00Z"), []string{CodeConsentGiven}, nil), algologist,
			"C C C I N N S N N N", map[int]string{7: "2026-03-28T22:59:59Z"}, ""},
		{"anaesthesia", stepResource(rules.FactAnaesthesiaVisit, at("2026-03-13T11:00:00Z"), nil, nil), Actor{Role: rules.RoleAnaesthetist},
			"C C C C N N S N N N", nil, ""},
		{"planning", stepResource(rules.FactPlanning, at("2026-03-16T09:00:00Z"), nil, map[string]time.Time{ExtPlannedDate: at("2026-03-24T08:00:00Z")}), algologist,
			"C C C C C N S N N N", nil, "intervention-planned:general-practitioner,referring-physician"},
		{"prescription", stepResource(rules.FactPrescription, at("2026-03-20T09:00:00Z"), nil, nil), algologist,
			"C C C C C C S N N N", nil, ""},
		{"admission", stepResource(rules.FactAdmission, at("2026-03-23T15:00:00Z"), nil, nil), algologist,
			"C C C C C C I N N N", nil, ""},
		{"implantation", stepResource(rules.FactImplantation, at("2026-03-24T08:00:00Z"), nil, nil), Actor{Role: rules.RoleImplantingPhysician},
			"C C C C C C C N N N", nil, "implantation-done:general-practitioner,referring-physician"},
		{"discharge", stepResource(rules.FactDischarge, at("2026-03-31T10:00:00Z"), []string{CodeRefillCentreDiffers}, map[string]time.Time{ExtNextRefill: at("2026-04-28T09:00:00Z")}), algologist,
			"C C C C C C C C I S", map[int]string{10: "2026-04-28T21:59:59Z"}, "discharge-letter:general-practitioner,referring-physician,refill-centre-physician"},
		{"follow-up", stepResource(rules.FactFollowUp, at("2026-04-07T10:00:00Z"), nil, nil), refiller,
			"C C C C C C C C I S", nil, ""},
		{"refill 1", stepResource(rules.FactRefill, at("2026-04-27T10:00:00Z"), nil, map[string]time.Time{ExtNextRefill: at("2026-05-25T09:00:00Z")}), refiller,
			"C C C C C C C C I I", map[int]string{10: "2026-05-25T21:59:59Z"}, "refill-letter:general-practitioner"},
		{"refill 2", stepResource(rules.FactRefill, at("2026-05-25T08:00:00Z"), nil, map[string]time.Time{ExtNextRefill: at("2026-06-22T09:00:00Z")}), refiller,
			"C C C C C C C C I I", map[int]string{10: "2026-06-22T21:59:59Z"}, "refill-letter:general-practitioner"},
		{"refill 3", stepResource(rules.FactRefill, at("2026-06-20T10:00:00Z"), nil, map[string]time.Time{ExtNextRefill: at("2026-07-18T09:00:00Z")}), refiller,
			"C C C C C C C C I I", map[int]string{10: "2026-07-18T21:59:59Z"}, "refill-letter:general-practitioner"},
	}
	for _, s := range steps {
		p, err := PathwayFromCarePlan(careplan)
		if err != nil {
			t.Fatalf("%s: resume: %v", s.name, err)
		}
		ev, err := EventFromResource(s.resource, s.actor)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		p, ms, err := Apply(p, ev)
		if err != nil {
			t.Fatalf("%s refused: %v", s.name, err)
		}
		careplan = CarePlanJSON(p)
		if got := statuses(t, careplan); got != s.want {
			t.Errorf("%s: CarePlan %s, want %s", s.name, got, s.want)
		}
		for step, end := range s.end {
			if got := scheduledEnd(t, careplan, step); got != end {
				t.Errorf("%s: step %d window ends %s, want %s", s.name, step, got, end)
			}
		}
		var told []string
		for _, m := range ms {
			var to []string
			for _, r := range m.Recipients {
				to = append(to, string(r))
			}
			told = append(told, m.Code+":"+strings.Join(to, ","))
		}
		if strings.Join(told, ";") != s.told {
			t.Errorf("%s: milestones %v, want %q", s.name, told, s.told)
		}
	}
	// As stored: the transaction rewrote the CarePlan's own references.
	careplan = []byte(strings.ReplaceAll(string(careplan), `"reference":"`+res.Pathway.Subject+`"`, `"reference":"Patient/p42"`))
	p, _ := PathwayFromCarePlan(careplan)
	if p.Subject != "Patient/p42" {
		t.Errorf("subject after the transaction: %q", p.Subject)
	}
	if p.Refills != 3 || p.Technique != rules.TechniquePump.Code || !p.PlannedImplantation.Equal(at("2026-03-24T08:00:00Z")) {
		t.Errorf("final state: %d refills, technique %q, planned %s", p.Refills, p.Technique, p.PlannedImplantation)
	}
	// A fourth refill is not done by its date: on the date itself (Paris) nothing, the
	// next day flagged overdue, the algologist and the refill-centre physician alerted.
	if _, ms := CheckOverdue(p, at("2026-07-18T21:59:00Z")); len(ms) != 0 {
		t.Errorf("refill flagged on its own day: %+v", ms)
	}
	p, ms := CheckOverdue(p, at("2026-07-18T22:01:00Z"))
	if len(ms) != 1 || ms[0].Code != rules.MilestoneRefillOverdue || ms[0].Recipients[0] != rules.RoleAlgologist || ms[0].Recipients[1] != rules.RoleRefillCentre {
		t.Fatalf("overdue refill: %+v", ms)
	}
	if got := statuses(t, CarePlanJSON(p)); got != "C C C C C C C C I I!" {
		t.Errorf("overdue CarePlan: %s", got)
	}
}

// want422 asserts err is a 422 OperationOutcome whose diagnostics name section.
func want422(t *testing.T, err error, section string) {
	t.Helper()
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity {
		t.Fatalf("want a 422 *fhir.Error, got %v", err)
	}
	is := fe.Outcome.Issue[0]
	if !strings.Contains(is.Diagnostics, section) || len(is.Expression) == 0 || is.Details == nil || is.Details.Coding[0].Code != section {
		t.Errorf("issue does not name %s and an element: %+v", section, is)
	}
}

// chain applies events in order, failing on the first refusal.
func chain(t *testing.T, p Pathway, evs ...Event) Pathway {
	t.Helper()
	for _, ev := range evs {
		var err error
		if p, _, err = Apply(p, ev); err != nil {
			t.Fatalf("%s: %v", ev.Fact, err)
		}
	}
	return p
}

// upToConsultations is a pathway with an accepted RCP, the algology consultation with
// consent on D, and the anaesthesia consultation on D.
func upToConsultations(t *testing.T, d time.Time) Pathway {
	p := NewPathway(KindAIT, "Patient/p1", "ServiceRequest/s1", "cp1")
	return chain(t, p,
		Event{Fact: rules.FactReferral, At: d.AddDate(0, 0, -20)},
		Event{Fact: rules.FactDossierComplete, At: d.AddDate(0, 0, -20)},
		Event{Fact: rules.FactRCPDecision, At: d.AddDate(0, 0, -5), Accepted: true},
		Event{Fact: rules.FactAlgologyConsult, At: d, Consent: true},
		Event{Fact: rules.FactAnaesthesiaVisit, At: d},
	)
}

func TestImplantationWithoutAcceptedRCPAndConsentIsRefused(t *testing.T) {
	p := NewPathway(KindAIT, "", "", "")
	p = chain(t, p, Event{Fact: rules.FactReferral, At: at("2026-01-01T00:00:00Z")}, Event{Fact: rules.FactDossierComplete, At: at("2026-01-01T00:00:00Z")})
	_, _, err := Apply(p, Event{Fact: rules.FactImplantation, At: at("2026-01-20T08:00:00Z")})
	want422(t, err, "000 §VI")
	// Accepted RCP, algology consultation without consent: still refused, for consent.
	p = chain(t, p, Event{Fact: rules.FactRCPDecision, At: at("2026-01-05T00:00:00Z"), Accepted: true},
		Event{Fact: rules.FactAlgologyConsult, At: at("2026-01-08T00:00:00Z")},
		Event{Fact: rules.FactAnaesthesiaVisit, At: at("2026-01-08T00:00:00Z")})
	_, _, err = Apply(p, Event{Fact: rules.FactImplantation, At: at("2026-01-15T08:00:00Z")})
	want422(t, err, "000 §VI, §VIII")
	if !strings.Contains(err.Error(), "consent") {
		t.Errorf("refusal does not say consent: %v", err)
	}
	// A refused RCP ends the pathway: every later step is refused, open steps cancelled.
	q := chain(t, NewPathway(KindAIT, "", "", ""), Event{Fact: rules.FactReferral, At: at("2026-01-01T00:00:00Z")},
		Event{Fact: rules.FactDossierComplete, At: at("2026-01-01T00:00:00Z")},
		Event{Fact: rules.FactRCPDecision, At: at("2026-01-05T00:00:00Z")})
	_, _, err = Apply(q, Event{Fact: rules.FactAlgologyConsult, At: at("2026-01-06T00:00:00Z")})
	want422(t, err, "000 §VI")
	if got := statuses(t, CarePlanJSON(q)); got != "C C C X X X X X X X" {
		t.Errorf("refused pathway CarePlan: %s", got)
	}
}

func TestRefillByNonPhysicianIsRefused(t *testing.T) {
	d := at("2026-02-02T10:00:00Z")
	p := upToConsultations(t, d)
	p = chain(t, p,
		Event{Fact: rules.FactPlanning, At: d.Add(time.Hour)},
		Event{Fact: rules.FactAdmission, At: d.AddDate(0, 0, 4)},
		Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 5)},
		Event{Fact: rules.FactDischarge, At: d.AddDate(0, 0, 12), NextRefill: d.AddDate(0, 0, 40)})
	_, _, err := Apply(p, Event{Fact: rules.FactRefill, At: d.AddDate(0, 0, 39), Actor: Actor{Role: rules.RoleNurse}})
	want422(t, err, "000 §XIII")
	if _, _, err := Apply(p, Event{Fact: rules.FactRefill, At: d.AddDate(0, 0, 39), Actor: Actor{Role: rules.RoleRefillCentre}}); err != nil {
		t.Errorf("refill by the refill-centre physician refused: %v", err)
	}
}

func TestRCPWithin15DaysOfCompleteDossier(t *testing.T) {
	c := at("2026-01-01T09:00:00Z")
	base := chain(t, NewPathway(KindAIT, "", "", ""), Event{Fact: rules.FactReferral, At: c}, Event{Fact: rules.FactDossierComplete, At: c})
	for _, tc := range []struct {
		at      time.Time
		overdue bool
	}{
		{at("2026-01-16T22:59:00Z"), false}, // day 15 at 23:59 in Paris, later in the day than the dossier
		{at("2026-01-16T23:01:00Z"), true},  // day 16 at 00:01 in Paris
	} {
		p, ms, err := Apply(base, Event{Fact: rules.FactRCPDecision, At: tc.at, Accepted: true})
		if err != nil {
			t.Fatal(err)
		}
		if p.Overdue["rcp-15d"] != tc.overdue || (len(ms) == 2) != tc.overdue {
			t.Errorf("RCP %s after the dossier: overdue %v, milestones %d", tc.at.Sub(c), p.Overdue["rcp-15d"], len(ms))
		}
	}
	// Nothing posted: CheckOverdue flags it on day 16 in Paris, not on day 15 at 23:59.
	if _, ms := CheckOverdue(base, at("2026-01-16T22:59:00Z")); len(ms) != 0 {
		t.Errorf("flagged on day 15: %+v", ms)
	}
	p, ms := CheckOverdue(base, at("2026-01-16T23:01:00Z"))
	if len(ms) != 1 || !strings.Contains(ms[0].Detail, "000 §VI") || statuses(t, CarePlanJSON(p))[4:6] != "S!" {
		t.Errorf("not flagged after 15 days: %+v %s", ms, statuses(t, CarePlanJSON(p)))
	}
	if _, ms := CheckOverdue(p, c.AddDate(0, 0, 20)); len(ms) != 0 {
		t.Errorf("overdue raised twice: %+v", ms)
	}
}

func TestAlgologyConsultationWithin7Days(t *testing.T) {
	c := at("2026-01-01T09:00:00Z")
	p := chain(t, NewPathway(KindAIT, "", "", ""), Event{Fact: rules.FactReferral, At: c}, Event{Fact: rules.FactDossierComplete, At: c},
		Event{Fact: rules.FactRCPDecision, At: c, Accepted: true})
	if q, _, _ := Apply(p, Event{Fact: rules.FactAlgologyConsult, At: at("2026-01-08T22:59:00Z")}); q.Overdue["algology-7d"] {
		t.Error("day 7 at 23:59 in Paris flagged")
	}
	if q, _, _ := Apply(p, Event{Fact: rules.FactAlgologyConsult, At: at("2026-01-08T23:01:00Z")}); !q.Overdue["algology-7d"] {
		t.Error("day 8 at 00:01 in Paris not flagged")
	}
}

func TestSurgery48hTo15DaysAfterAlgologyConsultation(t *testing.T) {
	d := at("2026-02-02T10:00:00Z")
	p := upToConsultations(t, d.Add(-time.Hour)) // anaesthesia 1 h before the algology one
	p, _, _ = Apply(p, Event{Fact: rules.FactAlgologyConsult, At: d, Consent: true})
	p = chain(t, p, Event{Fact: rules.FactPlanning, At: d}, Event{Fact: rules.FactAdmission, At: d.Add(-24 * time.Hour)})
	_, _, err := Apply(p, Event{Fact: rules.FactImplantation, At: d.Add(48*time.Hour - time.Second)})
	want422(t, err, "000 §VII")
	if _, _, err := Apply(p, Event{Fact: rules.FactImplantation, At: d.Add(48 * time.Hour)}); err != nil {
		t.Errorf("exactly 48 h refused: %v", err)
	}
	if q, _, _ := Apply(p, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 15).Add(12 * time.Hour)}); q.Overdue["surgery-48h-15d"] {
		t.Error("surgery on day 15 in the evening flagged")
	}
	q, ms, err := Apply(p, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 16)})
	if err != nil || !q.Overdue["surgery-48h-15d"] || len(ms) != 2 || ms[0].Code != rules.MilestoneOverdue || ms[1].Code != "implantation-done" {
		t.Errorf("surgery after 15 days: err %v, flagged %v", err, q.Overdue)
	}
}

func TestAnaesthesiaConsultationAtLeast48hBeforeImplantation(t *testing.T) {
	d := at("2026-02-02T10:00:00Z")
	p := NewPathway(KindAIT, "", "", "")
	p = chain(t, p, Event{Fact: rules.FactReferral, At: d}, Event{Fact: rules.FactDossierComplete, At: d},
		Event{Fact: rules.FactRCPDecision, At: d, Accepted: true}, Event{Fact: rules.FactAlgologyConsult, At: d, Consent: true},
		Event{Fact: rules.FactPlanning, At: d}, Event{Fact: rules.FactAdmission, At: d.AddDate(0, 0, 3)})
	_, _, err := Apply(p, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 4)})
	want422(t, err, "000 §VII") // no anaesthesia consultation at all
	late := chain(t, p, Event{Fact: rules.FactAnaesthesiaVisit, At: d.AddDate(0, 0, 2).Add(time.Second)})
	_, _, err = Apply(late, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 4)})
	want422(t, err, "000 §VII")
	ok := chain(t, p, Event{Fact: rules.FactAnaesthesiaVisit, At: d.AddDate(0, 0, 2)})
	if _, _, err := Apply(ok, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 4)}); err != nil {
		t.Errorf("anaesthesia exactly 48 h before refused: %v", err)
	}
}

func TestAdmissionTheDayBefore48hOnMethadone(t *testing.T) {
	d := at("2026-02-02T10:00:00Z")
	surgery := time.Date(2026, 2, 9, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		methadone bool
		admission time.Time
		ok        bool
	}{
		{false, time.Date(2026, 2, 8, 18, 0, 0, 0, time.UTC), true}, // the day before, evening
		{false, time.Date(2026, 2, 9, 6, 0, 0, 0, time.UTC), false}, // the same day
		{true, time.Date(2026, 2, 8, 9, 0, 0, 0, time.UTC), false},  // methadone: the day before is too late
		{true, time.Date(2026, 2, 7, 18, 0, 0, 0, time.UTC), true},  // methadone: D-2
	} {
		p := upToConsultations(t, d)
		p = chain(t, p, Event{Fact: rules.FactPlanning, At: d.Add(time.Hour)},
			Event{Fact: rules.FactAdmission, At: tc.admission, OnMethadone: tc.methadone})
		_, _, err := Apply(p, Event{Fact: rules.FactImplantation, At: surgery})
		if (err == nil) != tc.ok {
			t.Errorf("methadone %v, admission %s: err %v, want ok %v", tc.methadone, tc.admission, err, tc.ok)
		}
		if err != nil {
			want422(t, err, "000 §X")
		}
	}
}

func TestFirstRefillDateSetBeforeDischarge(t *testing.T) {
	d := at("2026-02-02T10:00:00Z")
	p := chain(t, upToConsultations(t, d), Event{Fact: rules.FactPlanning, At: d.Add(time.Hour)},
		Event{Fact: rules.FactAdmission, At: d.AddDate(0, 0, 4)}, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 5)})
	_, _, err := Apply(p, Event{Fact: rules.FactDischarge, At: d.AddDate(0, 0, 12)})
	want422(t, err, "000 §XI")
	if _, _, err := Apply(p, Event{Fact: rules.FactDischarge, At: d.AddDate(0, 0, 12), NextRefill: d.AddDate(0, 0, 40)}); err != nil {
		t.Errorf("discharge with the first refill date refused: %v", err)
	}
}

func TestTrialNeedsPositiveResultAndInsurerApprovalBeforePump(t *testing.T) {
	d := at("2026-02-02T10:00:00Z")
	p := chain(t, upToConsultations(t, d), Event{Fact: rules.FactTrialStart, At: d.Add(time.Hour)},
		Event{Fact: rules.FactPlanning, At: d.Add(time.Hour)}, Event{Fact: rules.FactAdmission, At: d.AddDate(0, 0, 4)})
	_, _, err := Apply(p, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 5)})
	want422(t, err, "002")
	p = chain(t, p, Event{Fact: rules.FactTrialPositive, At: d.AddDate(0, 0, 2)})
	_, _, err = Apply(p, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 5)})
	want422(t, err, "002")
	if !strings.Contains(err.Error(), "insurer") {
		t.Errorf("refusal does not name the insurer's approval: %v", err)
	}
	p = chain(t, p, Event{Fact: rules.FactInsurerApproval, At: d.AddDate(0, 0, 3)})
	if _, _, err := Apply(p, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 5)}); err != nil {
		t.Errorf("implantation after positive trial and approval refused: %v", err)
	}
}

func TestIRPreInterventionalConsultation48hAndFollowUpAt1Month(t *testing.T) {
	d := at("2026-04-01T10:00:00Z")
	p := chain(t, NewPathway(KindIR, "", "", ""), Event{Fact: rules.FactIRRequest, At: d.AddDate(0, 0, -10)},
		Event{Fact: rules.FactIRRCP, At: d.AddDate(0, 0, -5)}, Event{Fact: rules.FactIRConsultation, At: d})
	_, _, err := Apply(p, Event{Fact: rules.FactIRProcedure, At: d.Add(47 * time.Hour)})
	want422(t, err, "003")
	p = chain(t, p, Event{Fact: rules.FactIRProcedure, At: d.Add(48 * time.Hour)})
	// procedure 3 April (Paris): the follow-up is due by 3 May 23:59 CEST
	if _, ms := CheckOverdue(p, at("2026-05-03T21:59:00Z")); len(ms) != 0 {
		t.Errorf("follow-up flagged on the last day of the month")
	}
	q, ms := CheckOverdue(p, at("2026-05-03T22:01:00Z"))
	if len(ms) != 1 {
		t.Fatalf("follow-up not flagged after 1 month")
	}
	if got := statuses(t, CarePlanJSON(q)); got != "C C C C S!" {
		t.Errorf("IR CarePlan: %s", got)
	}
	_, _, err = Apply(NewPathway(KindIR, "", "", ""), Event{Fact: rules.FactImplantation, At: d})
	want422(t, err, "000 §III")
}

// TestMilestoneMatrix: each milestone row reaches its recipients (pathways.md "Who is
// told what"); the refill-centre physician only when the centre differs.
func TestMilestoneMatrix(t *testing.T) {
	for _, m := range rules.Milestones {
		if m.Section == "" || len(m.Recipients) == 0 {
			t.Errorf("milestone %s has no section or recipients", m.Code)
		}
	}
	d := at("2026-02-02T10:00:00Z")
	p := chain(t, upToConsultations(t, d), Event{Fact: rules.FactPlanning, At: d.Add(time.Hour)},
		Event{Fact: rules.FactAdmission, At: d.AddDate(0, 0, 4)}, Event{Fact: rules.FactImplantation, At: d.AddDate(0, 0, 5)})
	for _, differs := range []bool{false, true} {
		_, ms, err := Apply(p, Event{Fact: rules.FactDischarge, At: d.AddDate(0, 0, 12), NextRefill: d.AddDate(0, 0, 40), RefillCentreDiffers: differs})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(ms[0].Recipients)
		want := "[general-practitioner referring-physician]"
		if differs {
			want = "[general-practitioner referring-physician refill-centre-physician]"
		}
		if ms[0].Code != "discharge-letter" || got != want || ms[0].Section != "000 §XI" {
			t.Errorf("discharge (refill centre differs %v): %s %s", differs, ms[0].Code, got)
		}
	}
	_, ms, _ := Apply(p, Event{Fact: rules.FactComplication, At: d.AddDate(0, 0, 6)})
	if len(ms) != 1 || fmt.Sprint(ms[0].Recipients) != "[general-practitioner referring-physician algologist]" {
		t.Errorf("complication: %+v", ms)
	}
}

func TestEventFromResourceRefusesAResourceNamingNoStep(t *testing.T) {
	_, err := EventFromResource([]byte(`{"resourceType":"Procedure","performedDateTime":"2026-01-01"}`), Actor{})
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != 422 {
		t.Errorf("want 422, got %v", err)
	}
	ev, err := EventFromResource([]byte(`{"resourceType":"Consent","status":"active","dateTime":"2026-01-01T10:00:00Z"}`), Actor{})
	if err != nil || ev.Fact != rules.FactConsent {
		t.Errorf("Consent: %+v %v", ev, err)
	}
}
