package pathway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// post creates a resource and returns the response or the refusal.
func (w *world) post(body []byte) (*rest.Response, error) {
	typ, _ := decode(body)["resourceType"].(string)
	return w.svc.Create(ctx, &rest.Request{Method: "POST", Type: typ, Body: body})
}

// warned reports whether the write's response carries a non-error issue mentioning s.
func warned(resp *rest.Response, s string) bool {
	if resp == nil || resp.Outcome == nil {
		return false
	}
	for _, is := range resp.Outcome.Issue {
		if is.Severity != fhir.SeverityError && strings.Contains(is.Diagnostics, s) {
			return true
		}
	}
	return false
}

// want422At checks a refusal citing section whose first issue names expr.
func want422At(t *testing.T, err error, section, expr string) {
	t.Helper()
	want422(t, err, section)
	if got := strings.Join(fhir.AsError(err).Outcome.Issue[0].Expression, " "); !strings.Contains(got, expr) {
		t.Errorf("refusal names %q, want %q", got, expr)
	}
}

// mixture is an intrathecal prescription (the guide's form: one dosage line per
// molecule, daily dose in rateQuantity) of molecules "atc:strength-ug-per-mL:dose unit".
func mixture(patient, at string, lines ...[3]string) []byte {
	var ings, dis []any
	for _, l := range lines {
		atc, dose, unit := l[0], l[1], l[2]
		ings = append(ings, map[string]any{"itemCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": mapping.SystemATC, "code": atc}}},
			"strength": map[string]any{"numerator": map[string]any{"value": 100, "code": "ug", "system": mapping.SystemUCUM},
				"denominator": map[string]any{"value": 1, "code": "mL", "system": mapping.SystemUCUM}}})
		var v float64
		fmt.Sscan(dose, &v)
		dis = append(dis, map[string]any{
			"extension":   []any{map[string]any{"url": mapping.ExtMolecule, "valueCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": mapping.SystemATC, "code": atc}}}}},
			"route":       map[string]any{"coding": []any{map[string]any{"system": mapping.SystemSNOMED, "code": "72607000"}}},
			"doseAndRate": []any{map[string]any{"rateQuantity": map[string]any{"value": v, "code": unit, "system": mapping.SystemUCUM}}}})
	}
	return kit.JSON(map[string]any{"resourceType": "MedicationRequest", "status": "active", "intent": "order",
		"contained":           []any{map[string]any{"resourceType": "Medication", "id": "mix", "ingredient": ings}},
		"medicationReference": map[string]any{"reference": "#mix"}, "subject": map[string]any{"reference": patient},
		"authoredOn": at, "dosageInstruction": dis})
}

const ziconotide, morphine, ropivacaine, clonidine = "N02BG08", "N02AA01", "N01BB09", "N02CX02"

// TestZiconotideMaximum21_6IsAHardLimit (000 §IX.1.c): titrated by steps below
// 2.4 ug/d, 21.6 ug/d is accepted (with the "usual maximum 9.6" warning), 21.7 refused.
func TestZiconotideMaximum21_6IsAHardLimit(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for dose := 2.4; dose < 21; dose += 2.3 { // 2.4, 4.7 … 20.8: steps below 2.4, 48 h apart
		w.create(t, string(mixture(pat, day.Format(time.RFC3339), [3]string{ziconotide, fmt.Sprintf("%.1f", dose), "ug/d"})))
		day = day.Add(48 * time.Hour)
	}
	resp, err := w.post(mixture(pat, day.Format(time.RFC3339), [3]string{ziconotide, "21.6", "ug/d"}))
	if err != nil {
		t.Fatalf("21.6 ug/d refused: %v", fhir.AsError(err).Outcome.JSON())
	}
	if !warned(resp, "9.6") {
		t.Errorf("no warning above the usual 9.6 ug/d: %+v", resp.Outcome)
	}
	_, err = w.post(mixture(pat, day.Add(48*time.Hour).Format(time.RFC3339), [3]string{ziconotide, "21.7", "ug/d"}))
	want422At(t, err, "000 §IX.1.c", "rateQuantity")
	if fe := fhir.AsError(err); !strings.Contains(fe.Outcome.Issue[0].Diagnostics, "exceeds the maximum 21.6") {
		t.Errorf("refusal does not name the maximum: %s", fe.Outcome.JSON())
	}
}

// TestZiconotideStepsAtLeast48hApart (000 §IX.1.c): the previous prescription is
// read in the transaction; a step 47 h after it is refused, one 48 h after accepted.
func TestZiconotideStepsAtLeast48hApart(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	w.create(t, string(mixture(pat, "2026-03-01T09:00:00Z", [3]string{ziconotide, "2.4", "ug/d"})))
	_, err := w.post(mixture(pat, "2026-03-03T08:00:00Z", [3]string{ziconotide, "4.0", "ug/d"}))
	want422At(t, err, "000 §IX.1.c", "Medication.ingredient[0]")
	if _, err := w.post(mixture(pat, "2026-03-03T09:00:00Z", [3]string{ziconotide, "4.0", "ug/d"})); err != nil {
		t.Errorf("step 48 h after refused: %v", fhir.AsError(err).Outcome.JSON())
	}
	// A step of 2.4 ug/d is not below 2.4: refused whatever the delay.
	_, err = w.post(mixture(pat, "2026-03-10T09:00:00Z", [3]string{ziconotide, "6.4", "ug/d"}))
	want422(t, err, "000 §IX.1.c")
}

// TestZiconotideStartAndPsychosis (000 §IX.1.c): a first prescription starts at
// 2.4 ug/d (2.5 refused); a patient with psychosis may not receive ziconotide.
func TestZiconotideStartAndPsychosis(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	_, err := w.post(mixture(pat, "2026-03-01T09:00:00Z", [3]string{ziconotide, "2.5", "ug/d"}))
	want422(t, err, "000 §IX.1.c")
	w.create(t, `{"resourceType":"Condition","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"69322001"}]},"subject":{"reference":"`+pat+`"}}`)
	_, err = w.post(mixture(pat, "2026-03-01T09:00:00Z", [3]string{ziconotide, "2.4", "ug/d"}))
	want422(t, err, "psychosis")
}

// TestAtMost3Molecules (000 §IX.1): three molecules accepted, four refused; the
// off-label ropivacaine is a warning.
func TestAtMost3Molecules(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	three := [][3]string{{morphine, "1", "mg/d"}, {ropivacaine, "7", "mg/d"}, {clonidine, "30", "ug/d"}}
	resp, err := w.post(mixture(pat, "2026-03-01T09:00:00Z", three...))
	if err != nil {
		t.Fatalf("3 molecules refused: %v", fhir.AsError(err).Outcome.JSON())
	}
	if !warned(resp, "off-label") {
		t.Errorf("ropivacaine off-label not warned: %+v", resp.Outcome)
	}
	_, err = w.post(mixture(pat, "2026-03-02T09:00:00Z", append(three, [3]string{ziconotide, "2.4", "ug/d"})...))
	want422At(t, err, "000 §IX.1", "Medication.ingredient")
}

// refillWith is the kit's refill with the volume instilled and the flow (000 §XIII).
func refillWith(c kit.Cast, patient, at, next string, volume, flow float64) []byte {
	r := decode(kit.Refill(kit.Dossier{Patient: patient}, c, c.Refiller, at, next))
	r["extension"] = append(r["extension"].([]any),
		map[string]any{"url": mapping.ExtVolumeInstilled, "valueQuantity": map[string]any{"value": volume, "code": "mL", "system": mapping.SystemUCUM}},
		map[string]any{"url": mapping.ExtFlowRate, "valueQuantity": map[string]any{"value": flow, "code": "mL/d", "system": mapping.SystemUCUM}})
	return kit.JSON(r)
}

// TestPumpRunsDryBeforeTheNextRefill (000 §XIII, 001): 20 mL at 1 mL/d runs dry 20
// days after the refill; a refill scheduled on that day raises nothing, one a day later
// warns and tells the algologist and the refill-centre physician. A reservoir of
// 41 mL is outside 20–40 mL.
func TestPumpRunsDryBeforeTheNextRefill(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	c := newCast(t, w)
	w.notes.take()
	resp, err := w.post(refillWith(c, pat, "2026-04-01T10:00:00Z", "2026-04-21T10:00:00Z", 20, 1))
	if err != nil {
		t.Fatal(fhir.AsError(err).Outcome.JSON())
	}
	if warned(resp, "runs dry") || len(w.notes.take()) != 0 {
		t.Errorf("refill on the dry date alerted: %+v", resp.Outcome)
	}
	resp, err = w.post(refillWith(c, pat, "2026-04-01T10:00:00Z", "2026-04-22T10:00:00Z", 20, 1))
	if err != nil {
		t.Fatal(fhir.AsError(err).Outcome.JSON())
	}
	if !warned(resp, "runs dry on 2026-04-21") {
		t.Errorf("no dry-pump warning: %+v", resp.Outcome)
	}
	ns := w.notes.take()
	if got, want := told(ns), rules.MilestonePumpDry+">algologist=|refill-centre-physician="+c.Refiller; got != want {
		t.Errorf("notices\n got %s\nwant %s", got, want)
	}
	resp, err = w.post(refillWith(c, pat, "2026-04-01T10:00:00Z", "2026-04-30T10:00:00Z", 41, 1))
	if err != nil || !warned(resp, "reservoir 41 mL outside 20-40 mL (001)") {
		t.Errorf("reservoir 41 mL: %v %+v", err, resp)
	}
}

// rcpTask is an RCP decision Task for a patient (000 §VI).
func rcpTask(patient, decision, technique, basis string) []byte {
	out := []any{
		map[string]any{"type": cc(ait, mapping.CodeRCPDecision), "valueCodeableConcept": cc(ait, decision)},
		map[string]any{"type": cc(ait, mapping.CodeRCPTechnique), "valueCodeableConcept": cc(ait, technique)}}
	if basis != "" {
		out = append(out, map[string]any{"type": cc(ait, "rcp-life-expectancy-basis"), "valueReference": map[string]any{"reference": basis}})
	}
	return kit.JSON(map[string]any{"resourceType": "Task", "status": "completed", "intent": "order", "code": cc(ait, mapping.CodeRCPReview),
		"for": map[string]any{"reference": patient}, "executionPeriod": map[string]any{"start": "2026-03-10T14:00:00Z"}, "output": out})
}

func cc(system, code string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
}

// TestTechniqueByLifeExpectancy (000 §VI): an implanted pump decided for exactly 3
// months of life expectancy is warned (over 3 months only); for 4 months it is not.
func TestTechniqueByLifeExpectancy(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	for _, tc := range []struct {
		months int
		warn   bool
	}{{3, true}, {4, false}} {
		obs := w.create(t, fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"%s","code":"life-expectancy"}]},"subject":{"reference":"%s"},"effectiveDateTime":"2026-03-02","valueQuantity":{"value":%d,"code":"mo","system":"http://unitsofmeasure.org"}}`, ait, pat, tc.months))
		resp, err := w.post(rcpTask(pat, mapping.CodeRCPRefused, rules.TechniquePump.Code, obs))
		if err != nil {
			t.Fatal(fhir.AsError(err).Outcome.JSON())
		}
		if got := warned(resp, rules.TechniquePort.Code) && warned(resp, "000 §VI"); got != tc.warn {
			t.Errorf("%d months: warned %v, want %v: %+v", tc.months, got, tc.warn, resp.Outcome)
		}
	}
}

// TestAbsoluteContraindicationBlocksTheAcceptedDecision (000 §IV): intracranial
// hypertension refuses an accepted RCP decision (not a refused one); ascites without
// a recorded benefit/risk assessment is a warning saying what to record, with one
// (Condition.note) none.
func TestAbsoluteContraindicationBlocksTheAcceptedDecision(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	cond := func(code, note string) string {
		return w.create(t, `{"resourceType":"Condition","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"coding":[{"system":"`+ait+`","code":"`+code+`"}]},"subject":{"reference":"`+pat+`"}`+note+`}`)
	}
	ascites := cond("ascites-stomy-fistula", "")
	resp, err := w.post(rcpTask(pat, mapping.CodeRCPAccepted, rules.TechniquePump.Code, ""))
	if err != nil || !warned(resp, "without a recorded benefit/risk assessment") || !warned(resp, "Condition.note") {
		t.Errorf("relative contraindication without assessment: %v %+v", err, resp)
	}
	w.svc.Update(ctx, &rest.Request{Method: "PUT", Type: "Condition", ID: strings.TrimPrefix(ascites, "Condition/"),
		Body: []byte(`{"resourceType":"Condition","id":"` + strings.TrimPrefix(ascites, "Condition/") + `","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"coding":[{"system":"` + ait + `","code":"ascites-stomy-fistula"}]},"subject":{"reference":"` + pat + `"},"note":[{"text":"benefit/risk assessed"}]}`)})
	resp, err = w.post(rcpTask(pat, mapping.CodeRCPAccepted, rules.TechniquePump.Code, ""))
	if err != nil || warned(resp, "without a recorded benefit/risk assessment") {
		t.Errorf("relative contraindication with assessment: %v %+v", err, resp)
	}
	cond("intracranial-hypertension", "")
	if _, err := w.post(rcpTask(pat, mapping.CodeRCPRefused, rules.TechniquePump.Code, "")); err != nil {
		t.Errorf("a refusal is refused: %v", err)
	}
	_, err = w.post(rcpTask(pat, mapping.CodeRCPAccepted, rules.TechniquePump.Code, ""))
	want422At(t, err, "000 §IV", "Condition/")
	if fe := fhir.AsError(err); !strings.Contains(fe.Outcome.Issue[0].Diagnostics, "Intracranial hypertension") {
		t.Errorf("refusal does not name the contraindication: %s", fe.Outcome.JSON())
	}
}

// TestCimentoplastyPrerequisitesOnWrite (004): a vertebral cimentoplasty in
// preparation with a CT only is refused naming the MR; with CT and MR accepted; one
// already done without MR is recorded with the warning.
func TestCimentoplastyPrerequisitesOnWrite(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	study := func(mod, site string) {
		w.create(t, `{"resourceType":"ImagingStudy","status":"available","subject":{"reference":"`+pat+`"},"modality":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"`+mod+`"}],
			"series":[{"uid":"1.2.3","modality":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"`+mod+`"},"bodySite":{"system":"http://snomed.info/sct","code":"`+site+`"}}]}`)
	}
	proc := func(status string) []byte {
		return kit.JSON(map[string]any{"resourceType": "Procedure", "status": status, "code": cc(ait, "cimentoplasty"),
			"subject": map[string]any{"reference": pat}, "bodySite": []any{map[string]any{"text": "L2 vertebral body"}}})
	}
	study("CT", "421060004")
	_, err := w.post(proc("preparation"))
	want422At(t, err, "004", "Procedure.bodySite")
	resp, err := w.post(proc("completed"))
	if err != nil || !warned(resp, "MRI of the spine needed") {
		t.Errorf("completed act without MR: %v %+v", err, resp)
	}
	study("MR", "12738006") // a brain MRI is no spine MRI
	_, err = w.post(proc("preparation"))
	want422At(t, err, "004", "Procedure.bodySite")
	if !strings.Contains(fhir.AsError(err).Outcome.Issue[0].Diagnostics, "MR of brain") {
		t.Errorf("the refusal does not say the brain MRI was seen: %s", fhir.AsError(err).Outcome.JSON())
	}
	study("MR", "421060004")
	if _, err := w.post(proc("preparation")); err != nil {
		t.Errorf("with CT and MR: %v", fhir.AsError(err).Outcome.JSON())
	}
	// posterior-arch involvement (004), read from the latest SINS score's
	// posterolateral item (003 annex 4): unilateral refuses, none lets it through
	sins := func(posterior string, at time.Time) {
		obs, err := mapping.SINS(map[string]string{"location": "mobile", "pain": "mechanical", "lesion": "lytic",
			"alignment": "normal", "collapse": "lt-50", "posterior": posterior}, pat, at)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.post(obs); err != nil {
			t.Fatalf("SINS: %v", fhir.AsError(err).Outcome.JSON())
		}
	}
	sins("unilateral", w.now)
	_, err = w.post(proc("preparation"))
	want422At(t, err, "004", "Observation.component.where(code.coding.code='sins-posterior')")
	if fe := fhir.AsError(err); !strings.Contains(string(fe.Outcome.JSON()), "posterior-arch") {
		t.Errorf("refusal does not name the posterior arch: %s", fe.Outcome.JSON())
	}
	sins("none", w.now.Add(time.Hour))
	if _, err := w.post(proc("preparation")); err != nil {
		t.Errorf("a later SINS without posterior involvement: %v", fhir.AsError(err).Outcome.JSON())
	}
}

// TestSweepOverdueRCPNotHeldIn15Days (000 §VI): the RCP not held by the end of the
// 15th calendar day (Paris) after the complete dossier is not overdue; on day 16 the
// sweep flags the CarePlan and raises the milestone once; the next sweep raises nothing.
func TestSweepOverdueRCPNotHeldIn15Days(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	w.notes.take()
	complete := w.now // the referral was received, dossier complete, at the clock's time
	due := rules.Span{Days: 15}.Due(complete)
	n, err := SweepOverdue(ctx, w.svc, w.notes, due)
	if err != nil || n != 0 || len(w.notes.take()) != 0 {
		t.Fatalf("at the end of day 15: %d flagged, %v", n, err)
	}
	n, err = SweepOverdue(ctx, w.svc, w.notes, due.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("after 15 days: %d flagged, %v", n, err)
	}
	ns := w.notes.take()
	if len(ns) != 1 || ns[0].Code != rules.MilestoneOverdue || !strings.Contains(ns[0].Facts["detail"], "000 §VI") {
		t.Errorf("notices: %+v", ns)
	}
	cp := w.careplan(t, d.careplan)
	if got := kit.Statuses(cp.Body); got != "C C S! N N N N N N N" {
		t.Errorf("CarePlan after the sweep: %s", got)
	}
	n, err = SweepOverdue(ctx, w.svc, w.notes, complete.AddDate(0, 0, 16))
	if err != nil || n != 0 || len(w.notes.take()) != 0 || w.careplan(t, d.careplan).Version != cp.Version {
		t.Errorf("second sweep: %d flagged, %v", n, err)
	}
}

// TestCimentoplastyImagingFromDiagnosticReportsOnly (004): a spine CT and a spine MRI
// sent as DiagnosticReports only (a LOINC-less report coded by text and body site)
// meet "CT and MRI of the spine"; a report dated after the act does not.
func TestCimentoplastyImagingFromDiagnosticReportsOnly(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	report := func(text, date string) {
		w.create(t, `{"resourceType":"DiagnosticReport","status":"final","subject":{"reference":"`+pat+`"},
			"code":{"text":"`+text+`"},"effectiveDateTime":"`+date+`"}`)
	}
	proc := kit.JSON(map[string]any{"resourceType": "Procedure", "status": "preparation", "code": cc(ait, "cimentoplasty"),
		"performedDateTime": "2026-03-10", "subject": map[string]any{"reference": pat}, "bodySite": []any{map[string]any{"text": "T11"}}})
	report("Scanner du rachis dorso-lombaire", "2026-03-01")
	report("IRM du rachis lombaire", "2026-03-12") // after the act
	_, err := w.post(proc)
	want422At(t, err, "004", "Procedure.bodySite")
	report("IRM rachis L1-L3", "2026-03-05")
	if _, err := w.post(proc); err != nil {
		t.Errorf("CT and MRI of the spine as reports: %s", fhir.AsError(err).Outcome.JSON())
	}
}
