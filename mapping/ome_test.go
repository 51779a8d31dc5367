package mapping

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/mapping/rules"
)

// omeOf runs OME on one resource written as JSON.
func omeOf(t *testing.T, js string) OMEResult {
	t.Helper()
	return OME([][]byte{[]byte(js)})
}

const (
	morphineATC = `"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02AA01"}]}`
	fentanylATC = `"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02AB03","display":"fentanyl"}]}`
	routeIV     = `"route":{"coding":[{"system":"http://snomed.info/sct","code":"47625008"}]}`
	routeIVEDQM = `"route":{"coding":[{"system":"http://standardterms.edqm.eu","code":"20045000"}]}`
	routeTD     = `"route":{"coding":[{"system":"http://snomed.info/sct","code":"45890007"}]}`
)

func near4(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// IV morphine 2 mg/h = 48 mg/d IV = 144 mg/d oral (000 §IX.1.a: oral 300 = IV 100),
// as rateQuantity, as rateRatio, per minute, on a MedicationStatement or a
// MedicationRequest, coded in SNOMED CT or EDQM.
func TestOMEFromRates(t *testing.T) {
	for name, js := range map[string]string{
		"statement rateQuantity mg/h": `{"resourceType":"MedicationStatement","status":"active",` + morphineATC + `,
			"dosage":[{` + routeIV + `,"doseAndRate":[{"rateQuantity":{"value":2,"system":"http://unitsofmeasure.org","code":"mg/h"}}]}]}`,
		"request rateRatio 2 mg / 1 h": `{"resourceType":"MedicationRequest","status":"active",` + morphineATC + `,
			"dosageInstruction":[{` + routeIVEDQM + `,"doseAndRate":[{"rateRatio":{"numerator":{"value":2,"system":"http://unitsofmeasure.org","code":"mg"},"denominator":{"value":1,"system":"http://unitsofmeasure.org","code":"h"}}}]}]}`,
		"rate per minute in ug": `{"resourceType":"MedicationStatement",` + morphineATC + `,
			"dosage":[{` + routeIV + `,"doseAndRate":[{"rateQuantity":{"value":33.333333333,"system":"http://unitsofmeasure.org","code":"ug/min"}}]}]}`,
	} {
		r := omeOf(t, js)
		if !near4(round(r.MgPerDay, 3), 144) || len(r.Lines) != 1 || r.LowerBound {
			t.Errorf("%s: %+v, want 144 mg/d", name, r)
			continue
		}
		l := r.Lines[0]
		if l.Molecule != "morphine" || l.Route != "intravenous" || !near4(round(l.DailyDose, 3), 48) || l.Factor != 3 || l.Source != "000 §IX.1.a" {
			t.Errorf("%s: line %+v", name, l)
		}
	}
}

// A PCA: IV morphine basal 1 mg/h plus 10 boluses of 1 mg a day = 34 mg/d IV = 102
// mg/d oral; with 11 boluses 105.
func TestOMEPCABasalPlusBoluses(t *testing.T) {
	pca := func(boluses int) string {
		return `{"resourceType":"MedicationRequest","status":"active",` + morphineATC + `,
		"dosageInstruction":[{` + routeIV + `,"timing":{"repeat":{"frequency":` + strconv.Itoa(boluses) + `,"period":1,"periodUnit":"d"}},
		"doseAndRate":[{"rateQuantity":{"value":1,"system":"http://unitsofmeasure.org","code":"mg/h"}},
		               {"doseQuantity":{"value":1,"system":"http://unitsofmeasure.org","code":"mg"}}]}]}`
	}
	for boluses, want := range map[int]float64{10: 102, 11: 105, 0: 72} {
		r := omeOf(t, pca(boluses))
		if boluses == 0 { // no bolus count: frequency 0 a day
			if !near4(r.MgPerDay, want) {
				t.Errorf("PCA without boluses: %g, want %g", r.MgPerDay, want)
			}
			continue
		}
		if !near4(r.MgPerDay, want) || len(r.Lines) != 2 || r.Lines[0].Shape != "basal rate" || !strings.Contains(r.Lines[1].Shape, "boluses") {
			t.Errorf("PCA with %d boluses: %+v, want %g", boluses, r, want)
		}
	}
}

// A fentanyl patch of 25 ug/h (rateQuantity or doseQuantity in ug/h) is 60 mg/d; a
// patch of 12 ug/h 28.8.
func TestOMEPatch(t *testing.T) {
	for _, tc := range []struct {
		dr   string
		want float64
	}{
		{`{"rateQuantity":{"value":25,"system":"http://unitsofmeasure.org","code":"ug/h"}}`, 60},
		{`{"doseQuantity":{"value":25,"system":"http://unitsofmeasure.org","code":"ug/h"}}`, 60},
		{`{"rateQuantity":{"value":12,"system":"http://unitsofmeasure.org","code":"ug/h"}}`, 28.8},
	} {
		r := omeOf(t, `{"resourceType":"MedicationStatement","status":"active",`+fentanylATC+`,"dosage":[{`+routeTD+`,"doseAndRate":[`+tc.dr+`]}]}`)
		if !near4(r.MgPerDay, tc.want) || len(r.Lines) != 1 || r.Lines[0].Unit != "ug/d" {
			t.Errorf("%s: %+v, want %g", tc.dr, r, tc.want)
		}
	}
}

// Each statement the table cannot convert is listed by name, warned about, and the
// total says it is a lower bound: unknown molecule, unit, route, methadone.
func TestOMEUnconvertedAreListed(t *testing.T) {
	r := OME([][]byte{
		[]byte(`{"resourceType":"MedicationStatement","status":"active",` + morphineATC + `,
			"dosage":[{` + routeIV + `,"doseAndRate":[{"rateQuantity":{"value":2,"system":"http://unitsofmeasure.org","code":"mg/h"}}]}]}`),
		[]byte(`{"resourceType":"MedicationStatement","id":"x1","status":"active","medicationCodeableConcept":{"text":"Pethidine 50 mg"},
			"dosage":[{"doseAndRate":[{"doseQuantity":{"value":50,"code":"mg"}}]}]}`),
		[]byte(`{"resourceType":"MedicationStatement","status":"active",` + morphineATC + `,
			"dosage":[{` + routeIV + `,"doseAndRate":[{"rateQuantity":{"value":2,"system":"http://unitsofmeasure.org","code":"mL/h"}}]}]}`),
		[]byte(`{"resourceType":"MedicationStatement","status":"active",` + morphineATC + `,
			"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":"37161004"}]},"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":10,"code":"mg"}}]}]}`),
		[]byte(`{"resourceType":"MedicationStatement","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N07BC02","display":"Méthadone"}]},
			"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":"26643006"}]},"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":40,"code":"mg"}}]}]}`),
		[]byte(`{"resourceType":"MedicationStatement","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02BE01"}]},
			"dosage":[{"timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":1,"code":"g"}}]}]}`),
	})
	if !near4(r.MgPerDay, 144) || !r.LowerBound {
		t.Fatalf("total %g lower bound %v, want 144 and a lower bound", r.MgPerDay, r.LowerBound)
	}
	var names []string
	for _, u := range r.Unconverted {
		names = append(names, u.Name+": "+u.Why)
	}
	got := strings.Join(names, "\n")
	for _, want := range []string{"Pethidine 50 mg: molecule not in", "morphine: rate in \"mL/h\"", "morphine: morphine by route not coded", "Méthadone: methadone has no linear"} {
		if !strings.Contains(got, want) {
			t.Errorf("unconverted list lacks %q:\n%s", want, got)
		}
	}
	if len(r.Unconverted) != 4 || len(r.Issues) != 5 || !strings.Contains(r.Issues[4].Diagnostics, "lower bound") {
		t.Errorf("%d unconverted (paracetamol is no opioid), %d issues: %+v", len(r.Unconverted), len(r.Issues), r.Issues)
	}
}

// The refractory threshold in effect is the site's (000 §IV: 300; 001: 200): 250
// mg/d is no indication by default and one with a site file setting 200; a total
// that is a lower bound says so.
func TestOMEThresholdFromTheSiteRules(t *testing.T) {
	in := EligibilityInput{OMEMgPerDay: 250, OMELowerBound: true}
	e := CheckEligibility(in, rules.DefaultConfig())
	if e.Eligible || !strings.Contains(e.Issues[0].Diagnostics, "250 mg/day oral morphine equivalent at least") {
		t.Errorf("default threshold: %+v", e)
	}
	site, err := rules.ParseSite("site.yaml", []byte("ome-threshold: 200\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer rules.Use(rules.Use(site))
	if e := CheckEligibility(in, rules.DefaultConfig()); !e.Eligible {
		t.Errorf("site threshold 200: %+v", e)
	}
}
