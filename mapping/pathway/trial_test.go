package pathway

import (
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// TestTrialResultFromPostedScoresAndMedication (002): the trial's result is computed
// from the pain scores and the medication before and during it. 8/10 then 5/10
// (37.5 %) is refused as a positive trial; 8 then 4 (50 %) with the oral morphine
// equivalent down by 400 mg/d (morphine 600 to 200) is accepted; the definitive pump then still
// needs the insurer's approval.
func TestTrialResultFromPostedScoresAndMedication(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	c := newCast(t, w)
	var implantation []byte
	for _, s := range pathwaySteps(d, c) {
		if s.Name == "implantation" {
			implantation = s.Body
			break
		}
		w.create(t, string(s.Body))
	}
	step := func(fact, at string) []byte {
		return []byte(`{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
			"type":[{"coding":[{"system":"` + ait + `","code":"` + fact + `"}]}],"subject":{"reference":"` + d.patient + `"},
			"basedOn":[{"reference":"` + d.referral + `"}],"period":{"start":"` + at + `"}}`)
	}
	pain := func(v, at string) {
		w.create(t, `{"resourceType":"Observation","status":"final","subject":{"reference":"`+d.patient+`"},
			"code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"effectiveDateTime":"`+at+`","valueInteger":`+v+`}`)
	}
	morphine := func(mg, start, end string) {
		period := `"start":"` + start + `"`
		if end != "" {
			period += `,"end":"` + end + `"`
		}
		w.create(t, `{"resourceType":"MedicationStatement","status":"active","subject":{"reference":"`+d.patient+`"},
			"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02AA01"}]},"effectivePeriod":{`+period+`},
			"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":"26643006"}]},"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}},
			"doseAndRate":[{"doseQuantity":{"value":`+mg+`,"system":"http://unitsofmeasure.org","code":"mg"}}]}]}`)
	}
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
