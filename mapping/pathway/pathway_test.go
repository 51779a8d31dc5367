package pathway

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/profiles"
)

const (
	ait     = mapping.CodeSystemAIT
	pending = mapping.CodeSystemPending
)

func coding(system, code string) map[string]any {
	return map[string]any{"system": system, "code": code}
}
func cc(cs ...map[string]any) map[string]any {
	l := make([]any, len(cs))
	for i, c := range cs {
		l[i] = c
	}
	return map[string]any{"coding": l}
}
func reference(r string) map[string]any { return map[string]any{"reference": r} }

// dossier is what the referral created: the ids the steps refer to.
type dossier struct {
	patient, referral, gp, requester, careplan string
}

// postReferral posts the FR Core referral fixture to $ait-referral.
func postReferral(t *testing.T, w *world) (*rest.Response, dossier) {
	t.Helper()
	body, err := os.ReadFile("../testdata/referral-frcore.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Referral(w.svc)(ctx, &rest.Request{Method: "POST", Body: body})
	if err != nil {
		t.Fatalf("$ait-referral: %s", fhir.AsError(err).Outcome.JSON())
	}
	var d dossier
	pats := w.search(t, "Patient", "")
	srs := w.search(t, "ServiceRequest", "")
	cps := w.search(t, "CarePlan", "")
	if len(pats) != 1 || len(srs) != 1 || len(cps) != 1 {
		t.Fatalf("after the referral: %d Patient, %d ServiceRequest, %d CarePlan", len(pats), len(srs), len(cps))
	}
	p, sr, cp := decode(pats[0]), decode(srs[0]), decode(cps[0])
	d.patient, d.referral, d.careplan = "Patient/"+str(p, "id"), "ServiceRequest/"+str(sr, "id"), str(cp, "id")
	d.gp, d.requester = refs(p, "generalPractitioner")[0], ref(sr, "requester")
	return resp, d
}

// careplan reads the stored pathway CarePlan.
func (w *world) careplan(t *testing.T, id string) *fhir.Record {
	t.Helper()
	resp, err := w.svc.Read(ctx, &rest.Request{Type: "CarePlan", ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Record
}

// cast are the practitioners of the pathway, as PractitionerRoles or qualified
// Practitioners (ResolveActor reads their roles).
type cast struct {
	algologist, algologistRole, anaesthetist, implanter, refiller, refillCentre, nurse string
}

func newCast(t *testing.T, w *world) cast {
	var c cast
	prac := func(rpps string, qual map[string]any) string {
		r := map[string]any{"resourceType": "Practitioner", "identifier": []any{map[string]any{"system": "https://rpps.esante.gouv.fr", "value": rpps}},
			"name": []any{map[string]any{"family": "Test"}}}
		if qual != nil {
			r["qualification"] = []any{map[string]any{"code": qual}}
		}
		return w.create(t, js(r))
	}
	role := func(p string, code map[string]any, org string) string {
		r := map[string]any{"resourceType": "PractitionerRole", "practitioner": reference(p), "code": []any{code}}
		if org != "" {
			r["organization"] = reference(org)
		}
		return w.create(t, js(r))
	}
	c.algologist = prac("10000000001", nil)
	c.algologistRole = role(c.algologist, map[string]any{"text": "algologist"}, "")
	c.anaesthetist = role(prac("10000000002", nil), cc(coding("http://snomed.info/sct", "88189002")), "")
	c.implanter = role(prac("10000000003", nil), map[string]any{"text": "implanting-physician"}, "")
	c.refillCentre = w.create(t, js(map[string]any{"resourceType": "Organization", "name": "Refill centre",
		"type": []any{cc(coding(ait, "refill-centre"))}}))
	c.refiller = prac("10000000004", cc(coding("http://terminology.hl7.org/CodeSystem/v2-0360", "MD")))
	role(c.refiller, map[string]any{"text": "refill-centre-physician"}, c.refillCentre)
	c.nurse = prac("10000000005", cc(coding("http://terminology.hl7.org/CodeSystem/v2-0360", "RN")))
	return c
}

// encounter is a step the guide has no resource for: an Encounter coded with the
// pending step code (consultations, admission, discharge, follow-up).
func encounter(d dossier, fact, start, by string, extra map[string]any, qualifiers ...string) string {
	types := []any{cc(coding(pending, fact))}
	for _, q := range qualifiers {
		types = append(types, cc(coding(pending, q)))
	}
	r := map[string]any{"resourceType": "Encounter", "status": "finished", "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
		"type": types, "subject": reference(d.patient), "period": map[string]any{"start": start},
		"participant": []any{map[string]any{"individual": reference(by)}}, "basedOn": []any{reference(d.referral)}}
	for k, v := range extra {
		r[k] = v
	}
	return js(r)
}

func nextRefill(at string) map[string]any {
	return map[string]any{"extension": []any{map[string]any{"url": mapping.ExtNextRefill, "valueDateTime": at}}}
}

func refill(d dossier, c cast, by, at, next string) string {
	return js(map[string]any{"resourceType": "Procedure", "status": "completed", "code": cc(coding(ait, mapping.CodeRefill)),
		"subject": reference(d.patient), "performedDateTime": at,
		"performer": []any{map[string]any{"actor": reference(by), "onBehalfOf": reference(c.refillCentre)}},
		"extension": []any{map[string]any{"url": mapping.ExtNextRefill, "valueDateTime": next}}})
}

// step is one post of the pathway and what must follow.
type step struct {
	name, body string
	want       string // CarePlan activity statuses
	told       string // notices: code>role=reference|…
}

// pathwaySteps are the AIT steps after the referral, as an EHR posts them (000 §III).
func pathwaySteps(d dossier, c cast) []step {
	gp, ref, algo, refiller := "general-practitioner="+d.gp, "referring-physician="+d.requester, "algologist="+c.algologist, "refill-centre-physician="+c.refiller
	return []step{
		{"rcp", js(map[string]any{"resourceType": "Task", "status": "completed", "intent": "order", "code": cc(coding(ait, mapping.CodeRCPReview)),
			"for": reference(d.patient), "basedOn": []any{reference(d.referral)}, "owner": reference(c.algologistRole),
			"executionPeriod": map[string]any{"start": "2026-03-10T14:00:00Z"},
			"output": []any{
				map[string]any{"type": cc(coding(ait, mapping.CodeRCPDecision)), "valueCodeableConcept": cc(coding(ait, mapping.CodeRCPAccepted))},
				map[string]any{"type": cc(coding(ait, mapping.CodeRCPTechnique)), "valueCodeableConcept": cc(coding(ait, "implanted-pump"))}}}),
			"C C C S N N N N N N", "rcp-decision-sent>" + ref + "|" + gp},
		{"algology", encounter(d, "algology-consultation", "2026-03-13T10:00:00Z", c.algologistRole, nil, mapping.CodeConsentGiven),
			"C C C I N N S N N N", ""},
		{"anaesthesia", encounter(d, "anaesthesia-consultation", "2026-03-13T11:00:00Z", c.anaesthetist, nil),
			"C C C C N N S N N N", ""},
		{"planning", js(map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "plan", "code": cc(coding(pending, "planning")),
			"subject": reference(d.patient), "basedOn": []any{reference(d.referral)}, "authoredOn": "2026-03-16T09:00:00Z", "requester": reference(c.algologistRole),
			"extension": []any{map[string]any{"url": mapping.ExtPlannedDate, "valueDateTime": "2026-03-24T08:00:00Z"}}}),
			"C C C C C N S N N N", "intervention-planned>" + gp + "|" + ref},
		{"prescription", js(map[string]any{"resourceType": "MedicationRequest", "meta": map[string]any{"profile": []any{mapping.ProfilePrescription}},
			"status": "active", "intent": "order", "medicationCodeableConcept": map[string]any{"text": "intrathecal mixture"},
			"subject": reference(d.patient), "authoredOn": "2026-03-20T09:00:00Z", "requester": reference(c.algologistRole)}),
			"C C C C C C S N N N", ""},
		{"admission", encounter(d, "admission", "2026-03-23T15:00:00Z", c.algologistRole, nil),
			"C C C C C C I N N N", ""},
		{"implantation", js(map[string]any{"resourceType": "Procedure", "status": "completed", "code": cc(coding(ait, mapping.CodeImplantation)),
			"subject": reference(d.patient), "basedOn": []any{reference(d.referral)}, "performedDateTime": "2026-03-24T08:00:00Z",
			"performer": []any{map[string]any{"actor": reference(c.implanter)}}}),
			"C C C C C C C N N N", ""},
		{"discharge", encounter(d, "discharge", "2026-03-31T10:00:00Z", c.algologistRole,
			map[string]any{"serviceProvider": reference(c.refillCentre), "extension": nextRefill("2026-04-28T09:00:00Z")["extension"]}, mapping.CodeRefillCentreDiffers),
			"C C C C C C C C I S", "discharge-letter>" + gp + "|" + ref + "|" + refiller},
		{"follow-up", encounter(d, "follow-up", "2026-04-07T10:00:00Z", c.refiller, nil),
			"C C C C C C C C I S", ""},
		{"refill 1", refill(d, c, c.refiller, "2026-04-27T10:00:00Z", "2026-05-25T09:00:00Z"), "C C C C C C C C I I", "refill-letter>" + gp},
		{"refill 2", refill(d, c, c.refiller, "2026-05-25T08:00:00Z", "2026-06-22T09:00:00Z"), "C C C C C C C C I I", "refill-letter>" + gp},
		{"refill 3", refill(d, c, c.refiller, "2026-06-20T10:00:00Z", "2026-07-18T09:00:00Z"), "C C C C C C C C I I", "refill-letter>" + gp},
		{"complication", js(map[string]any{"resourceType": "Encounter", "status": "finished", "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
			"type": []any{cc(coding(pending, "complication"))}, "subject": reference(d.patient), "period": map[string]any{"start": "2026-06-25T10:00:00Z"},
			"participant": []any{map[string]any{"individual": reference(c.refiller)}}}),
			"C C C C C C C C I I", "complication>" + gp + "|" + ref + "|" + algo},
	}
}

// told renders notices as code>role=reference|… ; several notices joined by ";".
func told(ns []Notice) string {
	var out []string
	for _, n := range ns {
		var to []string
		for _, r := range n.Recipients {
			to = append(to, r.Role+"="+r.Reference)
		}
		out = append(out, n.Code+">"+strings.Join(to, "|"))
	}
	return strings.Join(out, ";")
}

// TestAITPathwayOnTheWire posts a referral to $ait-referral, then every step of the
// AIT pathway (000 §III) to the third refill and a complication through
// Service.Create, and checks the stored CarePlan and the notices after every post.
func TestAITPathwayOnTheWire(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	if got := statuses(w.careplan(t, d.careplan).Body); got != "C C S N N N N N N N" {
		t.Fatalf("after the referral: %s", got)
	}
	if got, want := told(w.notes.take()), "referral-received>referring-physician="+d.requester+";planned-ait-care>general-practitioner="+d.gp; got != want {
		t.Errorf("referral notices (000 §V-VI):\n got %s\nwant %s", got, want)
	}
	c := newCast(t, w)
	v := guide(t, w)
	checkGuide(t, v, "referral", w.careplan(t, d.careplan).Body)
	for _, s := range pathwaySteps(d, c) {
		w.create(t, s.body)
		cp := w.careplan(t, d.careplan)
		if got := statuses(cp.Body); got != s.want {
			t.Errorf("%s: CarePlan %s, want %s", s.name, got, s.want)
		}
		checkGuide(t, v, s.name, cp.Body)
		if got := told(w.notes.take()); got != s.told {
			t.Errorf("%s: notices\n got %s\nwant %s", s.name, got, s.told)
		}
	}
	p, err := mapping.PathwayFromCarePlan(w.careplan(t, d.careplan).Body)
	if err != nil {
		t.Fatal(err)
	}
	if p.Refills != 3 || p.Author != c.algologist || p.Subject != d.patient {
		t.Errorf("final pathway: %d refills, author %q, subject %q", p.Refills, p.Author, p.Subject)
	}
}

// TestSameReferralTwiceCreatesNothingTwice: the second post matches every entry by
// identifier (000 §V.2) and raises no notice.
func TestSameReferralTwiceCreatesNothingTwice(t *testing.T) {
	w := newWorld(t)
	postReferral(t, w)
	types := []string{"Patient", "Practitioner", "ServiceRequest", "Observation", "DocumentReference", "DiagnosticReport", "MedicationStatement", "Immunization", "CarePlan"}
	before := map[string]int{}
	for _, typ := range types {
		before[typ] = w.count(t, typ)
	}
	w.notes.take()
	resp, _ := postReferral(t, w)
	for _, typ := range types {
		if n := w.count(t, typ); n != before[typ] {
			t.Errorf("%s: %d after the second post, %d before", typ, n, before[typ])
		}
	}
	if ns := w.notes.take(); len(ns) != 0 {
		t.Errorf("second post raised %s", told(ns))
	}
	if !strings.Contains(string(resp.Body), `"transaction-response"`) || !strings.Contains(string(resp.Body), `"200 OK"`) {
		t.Errorf("answer: %.300s", resp.Body)
	}
}

// want422 checks a refused write: 422 naming the seed section, nothing of it stored.
func want422(t *testing.T, err error, section string) {
	t.Helper()
	fe := fhir.AsError(err)
	if err == nil || fe.Status != http.StatusUnprocessableEntity || !strings.Contains(fe.Outcome.Issue[0].Diagnostics, section) {
		t.Fatalf("want 422 citing %s, got %v", section, err)
	}
}

// TestImplantationBeforeRCPAndConsentIsRefused: an implantation posted right after
// the referral is refused with 422 (000 §VI) and the write rolls back whole.
func TestImplantationBeforeRCPAndConsentIsRefused(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	c := newCast(t, w)
	w.notes.take()
	var implantation string
	for _, s := range pathwaySteps(d, c) {
		if s.name == "implantation" {
			implantation = s.body
		}
	}
	_, err := w.svc.Create(ctx, &rest.Request{Method: "POST", Type: "Procedure", Body: []byte(implantation)})
	want422(t, err, "000 §VI")
	if n := w.count(t, "Procedure"); n != 0 {
		t.Errorf("%d Procedure stored after the refusal", n)
	}
	if v := w.careplan(t, d.careplan).Version; v != 1 {
		t.Errorf("CarePlan at version %d after the refusal", v)
	}
	if ns := w.notes.take(); len(ns) != 0 {
		t.Errorf("refused write raised %s", told(ns))
	}
}

// TestRefillByNonPhysicianIsRefused: after discharge, a refill recorded by a nurse
// is refused (000 §XIII: a trained physician), one by the refill-centre physician
// accepted.
func TestRefillByNonPhysicianIsRefused(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	c := newCast(t, w)
	for _, s := range pathwaySteps(d, c) {
		if strings.HasPrefix(s.name, "refill") {
			break
		}
		w.create(t, s.body)
	}
	version := w.careplan(t, d.careplan).Version
	_, err := w.svc.Create(ctx, &rest.Request{Method: "POST", Type: "Procedure",
		Body: []byte(refill(d, c, c.nurse, "2026-04-27T10:00:00Z", "2026-05-25T09:00:00Z"))})
	want422(t, err, "000 §XIII")
	if fe := fhir.AsError(err); !strings.Contains(fe.Outcome.Issue[0].Diagnostics, "physician") {
		t.Errorf("refusal does not say why: %s", fe.Outcome.JSON())
	}
	if v := w.careplan(t, d.careplan).Version; v != version {
		t.Errorf("CarePlan moved to version %d on a refused refill", v)
	}
	w.create(t, refill(d, c, c.refiller, "2026-04-27T10:00:00Z", "2026-05-25T09:00:00Z"))
	if got := statuses(w.careplan(t, d.careplan).Body); got != "C C C C C C C C I I" {
		t.Errorf("after the physician's refill: %s", got)
	}
}

// validator is the guide's validator resolving references in the store.
type validator struct {
	v       *profiles.Validator
	resolve profiles.Resolver
}

func guide(t *testing.T, w *world) validator {
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return validator{v, profiles.ResolverFunc(func(ctx context.Context, r string) ([]byte, error) {
		typ, id, ok := split(r)
		if !ok {
			return nil, nil
		}
		resp, err := w.svc.Read(ctx, &rest.Request{Type: typ, ID: id})
		if err != nil {
			return nil, nil
		}
		return resp.Body, nil
	})}
}

var activityIndex = regexp.MustCompile(`activity\[(\d+)\]`)

// checkGuide validates the stored CarePlan against the guide (AITCarePlan). Two
// errors remain, because the guide cannot express them yet (reported to the lead):
// CarePlan.author before the RCP designates the coordinating algologist (000 §VI),
// and activity.detail.scheduled[x] on a step not started that has no deadline row.
func checkGuide(t *testing.T, v validator, when string, careplan []byte) {
	t.Helper()
	oo := v.v.ValidateWith(ctx, v.resolve, careplan)
	acts := objs(decode(careplan), "activity")
	for _, is := range oo.Issue {
		if is.Severity != fhir.SeverityError && is.Severity != fhir.SeverityFatal {
			continue
		}
		expr := strings.Join(is.Expression, " ")
		switch {
		case strings.HasSuffix(expr, "CarePlan.author") && ref(decode(careplan), "author") == "" && (when == "referral"):
			continue // nobody coordinates before the RCP (000 §VI)
		case strings.HasSuffix(expr, ".detail.scheduled"):
			if m := activityIndex.FindStringSubmatch(expr); m != nil {
				i, _ := strconv.Atoi(m[1])
				if i < len(acts) && str(obj(acts[i], "detail"), "status") == "not-started" {
					continue // not started, no deadline row (000 §III)
				}
			}
		}
		t.Errorf("%s: CarePlan against the guide: %s %s %s", when, is.Code, expr, is.Diagnostics)
	}
}
