package letters

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/letters/lettertest"
	"github.com/aitgw/aitgw/mapping/rules"
)

// trialStore is the sample pathway with a trial started on 02/02/2026, a pain score
// of 8/10 the day before, a score during the trial, a trial result step on
// 01/03/2026 (trial-positive or trial-negative) and, when morphineAfter > 0, oral
// morphine 600 mg/d until the trial's second week then morphineAfter mg/d.
func trialStore(t *testing.T, fact string, painDuring, morphineAfter int) *lettertest.Store {
	t.Helper()
	r, err := lettertest.New()
	if err != nil {
		t.Fatal(err)
	}
	enc := func(id, code, start string) string {
		return `{"resourceType":"Encounter","id":"` + id + `","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},` +
			`"type":[{"coding":[{"system":"` + mapping.CodeSystemAIT + `","code":"` + code + `"}]}],"subject":{"reference":"` + lettertest.Patient + `"},"period":{"start":"` + start + `"}}`
	}
	pain := func(id string, v int, at string) string {
		return `{"resourceType":"Observation","id":"` + id + `","status":"final","subject":{"reference":"` + lettertest.Patient + `"},` +
			`"code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"effectiveDateTime":"` + at + `","valueInteger":` + strconv.Itoa(v) + `}`
	}
	morphine := func(id string, mg int, start, end string) string {
		period := `"start":"` + start + `"`
		if end != "" {
			period += `,"end":"` + end + `"`
		}
		return `{"resourceType":"MedicationStatement","id":"` + id + `","status":"active","subject":{"reference":"` + lettertest.Patient + `"},` +
			`"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02AA01"}]},"effectivePeriod":{` + period + `},` +
			`"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":"26643006"}]},"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}},` +
			`"doseAndRate":[{"doseQuantity":{"value":` + strconv.Itoa(mg) + `,"system":"http://unitsofmeasure.org","code":"mg"}}]}]}`
	}
	r.Put([]byte(enc("trial-start", rules.FactTrialStart, "2026-02-02T09:00:00+01:00")))
	r.Put([]byte(enc("trial", fact, "2026-03-01T10:00:00+01:00")))
	r.Put([]byte(pain("pain-before", 8, "2026-02-01T10:00:00+01:00")))
	r.Put([]byte(pain("pain-during", painDuring, "2026-02-27T10:00:00+01:00")))
	if morphineAfter > 0 {
		r.Put([]byte(morphine("morphine-before", 600, "2026-01-01", "2026-02-15")))
		r.Put([]byte(morphine("morphine-after", morphineAfter, "2026-02-16", "")))
	}
	return r
}

// omeFigures reads the oral morphine equivalents before and during the trial the
// letter states.
var omeFigures = regexp.MustCompile(`équivalent morphine orale (\d+) mg/j avant, (\d+) mg/j pendant`)

// TestTrialLettersStateResultFiguresAndDecision (002): the trial letter is written for
// a negative trial as for a positive one, with the result computed from the posted
// pain scores and medication, the figures, and the decision; its PDF states them.
func TestTrialLettersStateResultFiguresAndDecision(t *testing.T) {
	cases := []struct {
		name, fact            string
		during, morphineAfter int
		want                  []string
		omeDrop               int
	}{
		{"negative", rules.FactTrialNegative, 6, 0, []string{
			"Résultat de la période d'essai : négatif (soulagement inférieur à 50 % et traitements non réduits), le 01/03/2026 à 10h00",
			"douleur 8/10 avant l'essai (01/02/2026), 6/10 pendant (27/02/2026), soit 25 % de soulagement (au moins 50 % requis)",
			"(traitements non réduits)", "Décision : pas de pompe intrathécale définitive : l'essai ne remplit pas les critères (Fiche patient AIT, période d'essai)"}, 0},
		{"negative, relief without less medication", rules.FactTrialNegative, 2, 600, []string{
			"négatif (traitements non réduits)", "soit 75 % de soulagement", "Décision : pas de pompe intrathécale définitive"}, 0},
		{"positive", rules.FactTrialPositive, 2, 200, []string{
			"positif (soulagement d'au moins 50 % avec une réduction des traitements), le 01/03/2026 à 10h00",
			"douleur 8/10 avant l'essai (01/02/2026), 2/10 pendant (27/02/2026), soit 75 % de soulagement", "(traitements réduits)",
			"Décision : pose de la pompe intrathécale définitive, après accord de l'assurance"}, 400},
	}
	for _, c := range cases {
		r := trialStore(t, c.fact, c.during, c.morphineAfter)
		d := compose(t, r, sampleLetter{code: "trial-result", about: "Encounter/trial", when: "2026-03-01T10:00:00+01:00"})
		text := d.Text()
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: letter lacks %q:\n%s", c.name, w, text)
			}
		}
		m := omeFigures.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("%s: no oral morphine equivalents in:\n%s", c.name, text)
		}
		before, _ := strconv.Atoi(m[1])
		after, _ := strconv.Atoi(m[2])
		if before-after != c.omeDrop {
			t.Errorf("%s: OME %d then %d mg/d, want a drop of %d (morphine 600 then %d mg/d)", c.name, before, after, c.omeDrop, c.morphineAfter)
		}
		pdf, err := d.PDF()
		if err != nil {
			t.Fatal(err)
		}
		got := squash(pdfText(t, pdf))
		for _, w := range append(c.want, m[0], "INS (NIR) 255081416802538") {
			if w = squash(w); !strings.Contains(got, w) {
				t.Errorf("%s: PDF lacks %q:\n%s", c.name, w, got)
			}
		}
	}
}
