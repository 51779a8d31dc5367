package pathway

import (
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// trialPatient is a referred patient whose pathway ran up to the implantation
// (excluded), with the means to post trial steps, pain scores and morphine.
type trialPatient struct {
	w            *world
	d            dossier
	implantation []byte
}

func newTrialPatient(t *testing.T) *trialPatient {
	t.Helper()
	p := &trialPatient{w: newWorld(t)}
	_, p.d = postReferral(t, p.w)
	for _, s := range pathwaySteps(p.d, newCast(t, p.w)) {
		if s.Name == "implantation" {
			p.implantation = s.Body
			break
		}
		p.w.create(t, string(s.Body))
	}
	return p
}

// step is a pathway step Encounter coded fact, at the instant at.
func (p *trialPatient) step(fact, at string) []byte {
	return []byte(`{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
		"type":[{"coding":[{"system":"` + ait + `","code":"` + fact + `"}]}],"subject":{"reference":"` + p.d.patient + `"},
		"basedOn":[{"reference":"` + p.d.referral + `"}],"period":{"start":"` + at + `"}}`)
}

// pain posts a pain score (LOINC 72514-3, 0-10) taken at at.
func (p *trialPatient) pain(t *testing.T, v, at string) {
	p.w.create(t, `{"resourceType":"Observation","status":"final","subject":{"reference":"`+p.d.patient+`"},
		"code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"effectiveDateTime":"`+at+`","valueInteger":`+v+`}`)
}

// morphine posts oral morphine, mg a day, over start to end (end empty: ongoing).
func (p *trialPatient) morphine(t *testing.T, mg, start, end string) {
	period := `"start":"` + start + `"`
	if end != "" {
		period += `,"end":"` + end + `"`
	}
	p.w.create(t, `{"resourceType":"MedicationStatement","status":"active","subject":{"reference":"`+p.d.patient+`"},
		"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02AA01"}]},"effectivePeriod":{`+period+`},
		"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":"26643006"}]},"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}},
		"doseAndRate":[{"doseQuantity":{"value":`+mg+`,"system":"http://unitsofmeasure.org","code":"mg"}}]}]}`)
}

// TestTrialResultFromPostedScoresAndMedication (002): the trial's result is computed
// from the pain scores and the medication before and during it. 8/10 then 5/10
// (37.5 %) is refused as a positive trial; 8 then 4 (50 %) with the oral morphine
// equivalent down by 400 mg/d (morphine 600 to 200) is accepted; the definitive pump then still
// needs the insurer's approval.
func TestTrialResultFromPostedScoresAndMedication(t *testing.T) {
	p := newTrialPatient(t)
	w, implantation, step := p.w, p.implantation, p.step
	pain := func(v, at string) { p.pain(t, v, at) }
	morphine := func(mg, start, end string) { p.morphine(t, mg, start, end) }
	if _, err := w.post(step("trial-positive", "2026-03-19T12:00:00Z")); err == nil {
		t.Fatal("a trial result without a trial was accepted")
	}
	w.create(t, string(step("trial-start", "2026-03-10T09:00:00Z")))
	_, err := w.post(step("trial-positive", "2026-03-19T12:00:00Z"))
	want422(t, err, "002") // no score during the trial
	pain("8", "2026-03-09T10:00:00Z")
	pain("5", "2026-03-18T10:00:00Z")
	morphine("600", "2026-01-01", "2026-03-14")
	morphine("200", "2026-03-15", "")
	_, err = w.post(step("trial-positive", "2026-03-19T12:00:00Z"))
	want422(t, err, "002")
	if !strings.Contains(fhir.AsError(err).Outcome.Issue[0].Diagnostics, "38 % relief") {
		t.Errorf("refusal does not give the relief: %s", fhir.AsError(err).Outcome.JSON())
	}
	pain("4", "2026-03-19T10:00:00Z")
	resp, err := w.post(step("trial-positive", "2026-03-19T12:00:00Z"))
	if err != nil {
		t.Fatalf("a positive trial refused: %s", fhir.AsError(err).Outcome.JSON())
	}
	// with the referral's oxycodone 320 mg/d on both sides
	if !warned(resp, "pain 8 before, 4 during (50 % relief") || !warned(resp, "920 mg/d before, 520 mg/d during") {
		t.Errorf("the result is not returned: %s", resp.Outcome.JSON())
	}
	_, err = w.post(implantation)
	want422(t, err, "002")
	if !strings.Contains(fhir.AsError(err).Outcome.Issue[0].Diagnostics, "insurer") {
		t.Errorf("implantation refused for another reason: %s", fhir.AsError(err).Outcome.JSON())
	}
	w.create(t, string(step("insurer-approval", "2026-03-20T09:00:00Z")))
	if _, err := w.post(implantation); err != nil {
		t.Errorf("implantation after a positive trial and approval: %s", fhir.AsError(err).Outcome.JSON())
	}
}

// TestNegativeTrialIsRecordedAndTold (002): a trial whose posted scores give less
// than 50 % relief (8/10 then 6/10) with unchanged medication is negative. Recording
// it as positive is refused with the figures; recorded as trial-negative it is
// accepted, raises the trial milestone for the GP and the referring physician, and
// the definitive pump is then refused. Recording a positive trial as negative is
// refused too: the result is computed, not declared.
func TestNegativeTrialIsRecordedAndTold(t *testing.T) {
	p := newTrialPatient(t)
	w, implantation, step := p.w, p.implantation, p.step
	pain := func(v, at string) { p.pain(t, v, at) }
	w.create(t, string(step("trial-start", "2026-03-10T09:00:00Z")))
	pain("8", "2026-03-09T10:00:00Z")
	pain("6", "2026-03-18T10:00:00Z")
	w.notes.take()
	_, err := w.post(step("trial-positive", "2026-03-19T12:00:00Z"))
	want422(t, err, "002")
	if o := string(fhir.AsError(err).Outcome.JSON()); !strings.Contains(o, "25 % relief") || !strings.Contains(o, "record it as trial-negative") {
		t.Errorf("the refusal does not give the figures and the code that agrees: %s", o)
	}
	if _, err := w.post(step("trial-negative", "2026-03-19T12:00:00Z")); err != nil {
		t.Fatalf("a negative trial refused: %s", fhir.AsError(err).Outcome.JSON())
	}
	var told []string
	for _, n := range w.notes.take() {
		if n.Code == "trial-result" {
			for _, r := range n.Recipients {
				told = append(told, r.Role)
			}
		}
	}
	if strings.Join(told, ",") != "general-practitioner,referring-physician" {
		t.Errorf("the negative trial's letter goes to %v, want the GP and the referring physician", told)
	}
	_, err = w.post(implantation)
	want422(t, err, "002")
	if !strings.Contains(string(fhir.AsError(err).Outcome.JSON()), "positive trial") {
		t.Errorf("implantation after a negative trial refused for another reason: %s", fhir.AsError(err).Outcome.JSON())
	}

	// another patient whose trial reached 75 % relief with less morphine: declared
	// negative, it is refused
	p = newTrialPatient(t)
	w, step = p.w, p.step
	w.create(t, string(step("trial-start", "2026-03-10T09:00:00Z")))
	pain("8", "2026-03-09T10:00:00Z")
	pain("2", "2026-03-18T10:00:00Z")
	p.morphine(t, "600", "2026-01-01", "2026-03-14")
	_, err = w.post(step("trial-negative", "2026-03-19T12:00:00Z"))
	want422(t, err, "002")
	if o := string(fhir.AsError(err).Outcome.JSON()); !strings.Contains(o, "the trial is positive") || !strings.Contains(o, "record it as trial-positive") {
		t.Errorf("a positive trial declared negative: refusal %s", o)
	}
}
