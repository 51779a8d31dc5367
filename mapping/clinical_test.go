package mapping

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// statement builds a MedicationStatement: molecule by ATC, route by SNOMED, dose per
// intake and intakes per day.
func statement(atc, route string, dose float64, unit string, perDay int) []byte {
	return []byte(fmt.Sprintf(`{"resourceType":"MedicationStatement","status":"active",
	"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":%q}]},
	"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":%q}]},
	"timing":{"repeat":{"frequency":%d,"period":1,"periodUnit":"d"}},
	"doseAndRate":[{"doseQuantity":{"value":%g,"system":"http://unitsofmeasure.org","code":%q}}]}]}`, atc, route, perDay, dose, unit))
}

func TestOMEEquivalenceTable(t *testing.T) {
	// oral 300 = IV 100 = epidural 10 = intrathecal 1 (000 §IX.1.a)
	for _, tc := range []struct {
		route string
		dose  float64
	}{{"26643006", 300}, {"47625008", 100}, {"404820008", 10}, {"72607000", 1}} {
		if got := OME([][]byte{statement("N02AA01", tc.route, tc.dose, "mg", 1)}).MgPerDay; math.Abs(got-300) > 1e-9 {
			t.Errorf("morphine %g mg by %s = %g mg/d OME, want 300", tc.dose, tc.route, got)
		}
	}
}

func TestOMEConversionTableForOtherOpioids(t *testing.T) {
	r := OME([][]byte{
		statement("N02AA05", "26643006", 80, "mg", 2),   // oxycodone 160 mg/d oral x2 = 320
		statement("N02AB03", "45890007", 25, "ug/h", 1), // fentanyl patch 25 ug/h = 60
		statement("N07BC02", "26643006", 20, "mg", 2),   // methadone: reported, not counted
		statement("N02BE01", "26643006", 1000, "mg", 3), // paracetamol: not an opioid
	})
	if math.Abs(r.MgPerDay-380) > 1e-6 {
		t.Errorf("OME %g, want 380", r.MgPerDay)
	}
	if len(r.Unconverted) != 1 || r.Unconverted[0].Name != "methadone" || !r.LowerBound || len(r.Issues) != 2 ||
		!strings.Contains(r.Issues[1].Diagnostics, "lower bound") {
		t.Errorf("methadone not reported: %+v", r)
	}
	if r := OME([][]byte{statement("N02AA01", "26643006", 30, "mL", 1)}); r.MgPerDay != 0 || len(r.Unconverted) != 1 {
		t.Errorf("a dose in an unexpected unit was counted: %+v", r)
	}
}

func TestOMEThreshold300(t *testing.T) {
	for _, tc := range []struct {
		ome, threshold float64
		eligible       bool
	}{{300, 0, false}, {300.1, 0, true}, {250, 0, false}, {200, 200, false}, {250, 200, true}} {
		e := CheckEligibility(EligibilityInput{OMEMgPerDay: tc.ome}, rules.Config{OMEThreshold: tc.threshold})
		if e.Eligible != tc.eligible {
			t.Errorf("OME %g threshold %g: eligible %v", tc.ome, tc.threshold, e.Eligible)
		}
		if !e.Eligible && !strings.Contains(e.Issues[0].Diagnostics, "000 §IV") {
			t.Errorf("refusal does not cite 000 §IV: %s", e.Issues[0].Diagnostics)
		}
	}
	if !CheckEligibility(EligibilityInput{OMEMgPerDay: 100, SevereAdverseEffects: true}, rules.DefaultConfig()).Eligible {
		t.Error("severe adverse effects are an indication")
	}
}

func TestAbsoluteContraindicationBlocks(t *testing.T) {
	e := CheckEligibility(EligibilityInput{OMEMgPerDay: 400, Contraindications: []string{"intracranial-hypertension"}, BenefitRiskRecorded: true}, rules.DefaultConfig())
	if e.Eligible || len(e.Issues) != 1 || !strings.Contains(e.Issues[0].Diagnostics, "absolute") {
		t.Errorf("absolute contraindication: %+v", e)
	}
	// Recognised by SNOMED CT too.
	if CheckEligibility(EligibilityInput{OMEMgPerDay: 400, Contraindications: []string{"271719001"}}, rules.DefaultConfig()).Eligible {
		t.Error("SNOMED CT intracranial hypertension not recognised")
	}
}

func TestContraindicationsOfActiveConditions(t *testing.T) {
	cond := func(code, status string) []byte {
		return []byte(fmt.Sprintf(`{"resourceType":"Condition","clinicalStatus":{"coding":[{"code":%q}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":%q}]}}`, status, code))
	}
	got := ContraindicationsOf([][]byte{cond("271719001", "active"), cond("40733004", "resolved"), cond("363418001", "active")})
	if fmt.Sprint(got) != "[271719001]" {
		t.Errorf("contraindications: %v", got)
	}
}

func TestRelativeContraindicationNeedsBenefitRiskAssessment(t *testing.T) {
	in := EligibilityInput{OMEMgPerDay: 400, Contraindications: []string{"infection"}}
	if e := CheckEligibility(in, rules.DefaultConfig()); e.Eligible {
		t.Error("relative contraindication without benefit/risk assessment accepted")
	}
	in.BenefitRiskRecorded = true
	if e := CheckEligibility(in, rules.DefaultConfig()); !e.Eligible || len(e.Issues) != 1 || e.Issues[0].Severity != fhir.SeverityWarning {
		t.Errorf("with the assessment: %+v", e)
	}
}

func TestTechniqueByLifeExpectancy3Months(t *testing.T) {
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		span rules.Span
		want string
	}{
		{rules.Span{Months: 3}, rules.TechniquePort.Code}, // exactly 3 months is not "> 3 mois"
		{rules.Span{Months: 3, Days: 1}, rules.TechniquePump.Code},
		{rules.Span{Months: 6}, rules.TechniquePump.Code},
		{rules.Span{Days: 60}, rules.TechniquePort.Code},
	} {
		got := ChooseTechnique(tc.span, from)
		if got.Code != tc.want || got.Section != "000 §VI" {
			t.Errorf("life expectancy %s: %s", tc.span, got.Code)
		}
	}
	if !strings.Contains(rules.TechniquePort.FollowUp, "USP") || !strings.Contains(rules.TechniquePort.FollowUp, "HAD") {
		t.Error("the external device's follow-up is not the USP or HAD")
	}
}

// mixture builds a MedicationRequest with a contained Medication of ingredients
// "atc:value unit/mL" and a pump flow in mL/d.
func mixture(flow float64, when string, ings ...string) []byte {
	var is []any
	for _, s := range ings {
		var atc, unit string
		var v float64
		fmt.Sscanf(strings.NewReplacer(":", " ", "/mL", "").Replace(s), "%s %g %s", &atc, &v, &unit)
		is = append(is, map[string]any{
			"itemCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": SystemATC, "code": atc}}},
			"strength": map[string]any{"numerator": map[string]any{"value": v, "system": SystemUCUM, "code": unit},
				"denominator": map[string]any{"value": 1, "system": SystemUCUM, "code": "mL"}}})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "MedicationRequest", "status": "active", "intent": "order", "authoredOn": when,
		"contained":           []any{map[string]any{"resourceType": "Medication", "id": "mix", "ingredient": is}},
		"medicationReference": map[string]any{"reference": "#mix"},
		"dosageInstruction": []any{map[string]any{"doseAndRate": []any{map[string]any{
			"rateQuantity": map[string]any{"value": flow, "system": SystemUCUM, "code": "mL/d"}}}}}})
	return b
}

func check(t *testing.T, req []byte, ctx PrescriptionContext) (errs, warns []string) {
	t.Helper()
	is, err := CheckPrescription(req, nil, ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range is {
		if i.Severity == fhir.SeverityError {
			errs = append(errs, i.Diagnostics)
		} else {
			warns = append(warns, i.Diagnostics)
		}
		if len(i.Expression) == 0 || i.Details == nil {
			t.Errorf("issue without element or section: %+v", i)
		}
	}
	return
}

func TestAtMost3Molecules(t *testing.T) {
	three := []string{"N02AA01:50 mg/mL", "N02BG08:2.4 ug/mL", "N01BB09:10 mg/mL"}
	errs, _ := check(t, mixture(0.7, "2026-04-01", three...), PrescriptionContext{})
	for _, e := range errs {
		if strings.Contains(e, "molecules") {
			t.Errorf("3 molecules refused: %s", e)
		}
	}
	errs, _ = check(t, mixture(0.7, "2026-04-01", append(three, "N02CX02:50 ug/mL")...), PrescriptionContext{})
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "|"), "4 molecules: at most 3") {
		t.Errorf("4 molecules accepted: %v", errs)
	}
}

func TestMorphineAt50MgPerML(t *testing.T) {
	if errs, warns := check(t, mixture(0.1, "2026-04-01", "N02AA01:50 mg/mL"), PrescriptionContext{}); len(errs)+len(warns) != 0 {
		t.Errorf("morphine 50 mg/mL: %v %v", errs, warns)
	}
	errs, warns := check(t, mixture(0.1, "2026-04-01", "N02AA01:25 mg/mL"), PrescriptionContext{})
	if len(errs) != 0 || len(warns) != 1 || !strings.Contains(warns[0], "000 §IX.1.a") {
		t.Errorf("morphine 25 mg/mL: errors %v, warnings %v", errs, warns)
	}
}

func TestZiconotideStartsAt2_4(t *testing.T) {
	// 0.5 mL/d of 4.8 ug/mL = 2.4 ug/d
	if errs, warns := check(t, mixture(0.5, "2026-04-01", "N02BG08:4.8 ug/mL"), PrescriptionContext{}); len(errs)+len(warns) != 0 {
		t.Errorf("start at 2.4: %v %v", errs, warns)
	}
	if errs, _ := check(t, mixture(0.5, "2026-04-01", "N02BG08:6 ug/mL"), PrescriptionContext{}); len(errs) != 1 {
		t.Errorf("start at 3 ug/d accepted: %v", errs)
	}
	if errs, warns := check(t, mixture(0.5, "2026-04-01", "N02BG08:1 ug/mL"), PrescriptionContext{}); len(errs) != 0 || len(warns) != 1 {
		t.Errorf("start at 0.5 ug/d (2019 recommendation): %v %v", errs, warns)
	}
}

func TestZiconotideMaximum21_6(t *testing.T) {
	prev := PrescriptionContext{Previous: map[string]DoseChange{"ziconotide": {PerDay: 20, At: at("2026-04-01T00:00:00Z")}}}
	// 0.9 mL/d of 24 ug/mL = 21.6 ug/d: the maximum itself is allowed (warning: above 9.6).
	errs, warns := check(t, mixture(0.9, "2026-04-05T00:00:00Z", "N02BG08:24 ug/mL"), prev)
	if len(errs) != 0 || len(warns) != 1 {
		t.Errorf("21.6 ug/d: errors %v warnings %v", errs, warns)
	}
	errs, _ = check(t, mixture(0.9, "2026-04-05T00:00:00Z", "N02BG08:24.1 ug/mL"), prev)
	if len(errs) != 1 || !strings.Contains(errs[0], "maximum 21.6") {
		t.Errorf("21.69 ug/d: %v", errs)
	}
}

func TestZiconotideStepsBelow2_4AtLeast48hApart(t *testing.T) {
	prev := PrescriptionContext{Previous: map[string]DoseChange{"ziconotide": {PerDay: 2.4, At: at("2026-04-01T08:00:00Z")}}}
	// +2.3 ug/d exactly 48 h later: allowed.
	if errs, _ := check(t, mixture(0.5, "2026-04-03T08:00:00Z", "N02BG08:9.4 ug/mL"), prev); len(errs) != 0 {
		t.Errorf("step 2.3 at 48 h: %v", errs)
	}
	// 47 h later: refused.
	if errs, _ := check(t, mixture(0.5, "2026-04-03T07:00:00Z", "N02BG08:9.4 ug/mL"), prev); len(errs) != 1 || !strings.Contains(errs[0], "48 h") {
		t.Errorf("step at 47 h: %v", errs)
	}
	// A step of exactly 2.4 is not "below 2.4".
	if errs, _ := check(t, mixture(0.5, "2026-04-05T08:00:00Z", "N02BG08:9.6 ug/mL"), prev); len(errs) != 1 || !strings.Contains(errs[0], "below 2.4") {
		t.Errorf("step of 2.4: %v", errs)
	}
}

func TestZiconotideContraindicatedWithPsychosis(t *testing.T) {
	errs, _ := check(t, mixture(0.5, "2026-04-01", "N02BG08:4.8 ug/mL"), PrescriptionContext{Psychosis: true})
	if len(errs) != 1 || !strings.Contains(errs[0], "psychosis") {
		t.Errorf("psychosis: %v", errs)
	}
}

func TestRopivacaine10MgPerML6To8MgPerDay(t *testing.T) {
	// 0.7 mL/d of 10 mg/mL = 7 mg/d: only the off-label warning.
	errs, warns := check(t, mixture(0.7, "2026-04-01", "N01BB09:10 mg/mL"), PrescriptionContext{})
	if len(errs) != 0 || len(warns) != 1 || !strings.Contains(warns[0], "off-label") {
		t.Errorf("ropivacaine 7 mg/d: %v %v", errs, warns)
	}
	for _, flow := range []float64{0.6, 0.8} {
		if _, warns := check(t, mixture(flow, "2026-04-01", "N01BB09:10 mg/mL"), PrescriptionContext{}); len(warns) != 1 {
			t.Errorf("ropivacaine %g mg/d (bound): %v", flow*10, warns)
		}
	}
	if errs, warns := check(t, mixture(0.9, "2026-04-01", "N01BB09:10 mg/mL"), PrescriptionContext{}); len(errs) != 0 || len(warns) != 2 {
		t.Errorf("ropivacaine 9 mg/d: %v %v", errs, warns)
	}
}

func TestIntrathecalStartingDoseFromSystemicOpioids(t *testing.T) {
	if got := ProposedIntrathecalMorphine(600); got != 2 {
		t.Errorf("600 mg/d OME -> %g mg/d intrathecal, want 2", got)
	}
	ctx := PrescriptionContext{SystemicOME: 600}
	// 0.04 mL/d of 50 mg/mL = 2 mg/d: as proposed.
	if _, warns := check(t, mixture(0.04, "2026-04-01", "N02AA01:50 mg/mL"), ctx); len(warns) != 0 {
		t.Errorf("proposed dose warned: %v", warns)
	}
	if _, warns := check(t, mixture(0.06, "2026-04-01", "N02AA01:50 mg/mL"), ctx); len(warns) != 1 || !strings.Contains(warns[0], "oral 300 = intrathecal 1") {
		t.Errorf("3 mg/d for 600 OME: %v", warns)
	}
}

func TestRefillInterval3WeeksTo3Months(t *testing.T) {
	cfg := rules.Config{OMEThreshold: 300, RefillSafetyDays: 0}
	at0 := at("2026-04-01T10:00:00Z")
	// 40 mL at 0.25 mL/d lasts 160 days: capped at 3 months.
	p := PlanRefill(at0, 40, 0.25, time.Time{}, cfg)
	if !p.Next.Equal(at0.AddDate(0, 3, 0)) || len(p.Issues) != 0 {
		t.Errorf("long autonomy: next %s %+v", p.Next, p.Issues)
	}
	// 21 mL at 1 mL/d: dry in exactly 3 weeks: no warning; at 1.01 mL/d: warning.
	if p := PlanRefill(at0, 21, 1, time.Time{}, cfg); len(p.Issues) != 0 || !p.Next.Equal(at0.AddDate(0, 0, 21)) {
		t.Errorf("3 weeks: %s %+v", p.Next, p.Issues)
	}
	if p := PlanRefill(at0, 21, 1.01, time.Time{}, cfg); len(p.Issues) != 1 || p.Issues[0].Severity != fhir.SeverityWarning {
		t.Errorf("under 3 weeks: %+v", p.Issues)
	}
	// The default configuration keeps a safety margin before the dry date.
	if p := PlanRefill(at0, 40, 1, time.Time{}, rules.DefaultConfig()); !p.Next.Equal(p.DryDate.AddDate(0, 0, -3)) {
		t.Errorf("safety margin: next %s dry %s", p.Next, p.DryDate)
	}
}

func TestReservoir20To40ML(t *testing.T) {
	at0 := at("2026-04-01T10:00:00Z")
	for _, tc := range []struct {
		ml float64
		ok bool
	}{{19.9, false}, {20, true}, {40, true}, {40.1, false}} {
		p := PlanRefill(at0, tc.ml, 0.5, time.Time{}, rules.DefaultConfig())
		if (len(p.Issues) == 0) != tc.ok {
			t.Errorf("reservoir %g mL: %+v", tc.ml, p.Issues)
		}
	}
}

func TestPumpRunsDryBeforeScheduledRefillAlert(t *testing.T) {
	at0 := at("2026-04-01T10:00:00Z")
	p := PlanRefill(at0, 20, 0.5, at0.AddDate(0, 0, 40), rules.DefaultConfig()) // dry after 40 days
	if len(p.Issues) != 0 {
		t.Errorf("refill on the dry date alerted: %+v", p.Issues)
	}
	p = PlanRefill(at0, 20, 0.5, at0.AddDate(0, 0, 41), rules.DefaultConfig())
	if len(p.Issues) != 1 || p.Issues[0].Severity != fhir.SeverityError || !strings.Contains(p.Issues[0].Diagnostics, "runs dry") {
		t.Errorf("no dry alert: %+v", p.Issues)
	}
}

func TestFollowingCentreByConvention(t *testing.T) {
	imp := Centre{Reference: "Organization/chu", Implants: true, Refills: true}
	near := Centre{Reference: "Organization/ch-local", Refills: true}
	if c, is := FollowingCentre(imp, near, true); c != near || len(is) != 0 {
		t.Errorf("convention: %v", c)
	}
	if c, is := FollowingCentre(imp, near, false); c != imp || len(is) != 1 {
		t.Errorf("no convention: %v %+v", c, is)
	}
}

func TestTrialPositiveWith50PercentReliefAndLessMedication(t *testing.T) {
	for _, tc := range []struct {
		before, during float64
		reduced, pos   bool
	}{{8, 4, true, true}, {8, 4.1, true, false}, {8, 2, false, false}} {
		if r := AssessTrial(tc.before, tc.during, tc.reduced); r.Positive != tc.pos {
			t.Errorf("%g -> %g reduced %v: positive %v (%.1f %%)", tc.before, tc.during, tc.reduced, r.Positive, r.ReliefPc)
		}
	}
}

func scoreOf(t *testing.T, obs []byte) (int, string) {
	t.Helper()
	m, err := decodeObject(obs)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := num(m["valueInteger"])
	return int(v), codings(objs(m, "interpretation")[0])[0].Code
}

func TestMirelsScoreBands(t *testing.T) {
	for _, tc := range []struct {
		site, pain, size, lesion string
		score                    int
		band                     string
	}{
		{"upper-limb", "mild", "lt-1/3", "blastic", 4, "mirels-low"},
		{"lower-limb", "moderate", "1/3-2/3", "blastic", 7, "mirels-low"},
		{"lower-limb", "moderate", "1/3-2/3", "mixed", 8, "mirels-intermediate"},
		{"lower-limb", "moderate", "1/3-2/3", "lytic", 9, "mirels-high"},
		{"proximal-femur", "functional", "gt-2/3", "lytic", 12, "mirels-high"},
	} {
		obs, err := Mirels(map[string]string{"site": tc.site, "pain": tc.pain, "size": tc.size, "lesion": tc.lesion}, "Patient/p1", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if s, b := scoreOf(t, obs); s != tc.score || b != tc.band {
			t.Errorf("Mirels %v: %d %s, want %d %s", tc, s, b, tc.score, tc.band)
		}
	}
	_, err := Mirels(map[string]string{"site": "skull"}, "", time.Time{})
	want422(t, err, "003 annex 4")
}

func TestSINSScoreBands(t *testing.T) {
	base := map[string]string{"location": "rigid", "pain": "none", "lesion": "blastic", "alignment": "normal", "collapse": "none", "posterior": "none"}
	for _, tc := range []struct {
		set   map[string]string
		score int
		band  string
	}{
		{map[string]string{}, 0, "sins-stable"},
		{map[string]string{"location": "junctional", "pain": "mechanical"}, 6, "sins-stable"},
		{map[string]string{"location": "junctional", "pain": "mechanical", "posterior": "unilateral"}, 7, "sins-potentially-unstable"},
		{map[string]string{"location": "junctional", "pain": "mechanical", "alignment": "subluxation", "lesion": "lytic"}, 12, "sins-potentially-unstable"},
		{map[string]string{"location": "junctional", "pain": "mechanical", "alignment": "subluxation", "lesion": "lytic", "posterior": "unilateral"}, 13, "sins-unstable"},
		{map[string]string{"location": "junctional", "pain": "mechanical", "alignment": "subluxation", "lesion": "lytic", "posterior": "bilateral", "collapse": "gt-50"}, 18, "sins-unstable"},
	} {
		a := map[string]string{}
		for k, v := range base {
			a[k] = v
		}
		for k, v := range tc.set {
			a[k] = v
		}
		obs, err := SINS(a, "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if s, b := scoreOf(t, obs); s != tc.score || b != tc.band {
			t.Errorf("SINS %v: %d %s, want %d %s", tc.set, s, b, tc.score, tc.band)
		}
		// The Observation's components read back to the same answers.
		back, _ := ScoreAnswers(obs)
		if fmt.Sprint(back) != fmt.Sprint(a) {
			t.Errorf("answers round trip: %v vs %v", back, a)
		}
	}
}

// imagingOf builds what the reader makes of a study: modalities and regions.
func imagingOf(mods string, regions ...string) Imaging {
	im := Imaging{Modalities: map[string]bool{}, Regions: map[string]bool{}}
	for _, m := range strings.Split(mods, ",") {
		im.Modalities[m] = true
	}
	for _, r := range regions {
		im.Regions[r] = true
	}
	return im
}

func TestCimentoplastyPrerequisites(t *testing.T) {
	spineCT, spineMR, brainMR, pelvisCT := imagingOf("CT", "spine"), imagingOf("MR", "spine"), imagingOf("MR", "brain"), imagingOf("CT", "pelvis", "hip")
	if is := CheckCimentoplasty(CimentoplastyInput{Site: "vertebra", Imaging: []Imaging{spineCT, spineMR}, Antithrombotics: []string{"aspirin-low-dose"}}); len(is) != 0 {
		t.Errorf("complete vertebra case: %+v", is)
	}
	if is := CheckCimentoplasty(CimentoplastyInput{Site: "vertebra", Imaging: []Imaging{spineCT}}); len(is) != 1 || !strings.Contains(is[0].Diagnostics, "MRI of the spine") {
		t.Errorf("vertebra without MRI: %+v", is)
	}
	// A brain MRI is no spine MRI (004: "CT and MRI of the spine").
	if is := CheckCimentoplasty(CimentoplastyInput{Site: "vertebra", Imaging: []Imaging{spineCT, brainMR}}); len(is) != 1 || !strings.Contains(is[0].Diagnostics, "MR of brain") {
		t.Errorf("vertebra with a brain MRI: %+v", is)
	}
	if is := CheckCimentoplasty(CimentoplastyInput{Site: "hip", Imaging: []Imaging{pelvisCT}}); len(is) != 0 {
		t.Errorf("hip with CT: %+v", is)
	}
	if is := CheckCimentoplasty(CimentoplastyInput{Site: "pelvis", Imaging: []Imaging{pelvisCT}, PosteriorArchMechanicalRisk: true}); len(is) != 1 || is[0].Severity != fhir.SeverityError {
		t.Errorf("posterior arch: %+v", is)
	}
	is := CheckCimentoplasty(CimentoplastyInput{Site: "pelvis", Imaging: []Imaging{pelvisCT}, Antithrombotics: []string{"vitamin-k-antagonist", "clopidogrel"}})
	if len(is) != 2 || !strings.Contains(is[1].Diagnostics, "5 days") {
		t.Errorf("antithrombotics: %+v", is)
	}
}

// TestRulesTablesCiteTheirSeed: every row of every table names its seed section.
func TestRulesTablesCiteTheirSeed(t *testing.T) {
	var missing []string
	for _, l := range rules.Labs {
		if l.Section == "" {
			missing = append(missing, "lab "+l.Key)
		}
	}
	for _, c := range rules.Conversions {
		if c.Section == "" {
			missing = append(missing, "conversion "+c.Molecule)
		}
	}
	for _, d := range rules.Deadlines {
		if d.Section == "" || d.Why == "" {
			missing = append(missing, "deadline "+d.Name)
		}
	}
	for _, r := range rules.Requirements {
		if r.Section == "" {
			missing = append(missing, "requirement "+r.Fact)
		}
	}
	for _, s := range append(append([]rules.Step{}, rules.AITSteps...), rules.IRSteps...) {
		if s.Section == "" {
			missing = append(missing, "step "+s.Code)
		}
		if s.Deadline != "" {
			if _, ok := rules.DeadlineByName(s.Deadline); !ok {
				missing = append(missing, "step deadline "+s.Deadline)
			}
		}
	}
	for _, l := range rules.IntrathecalLimits {
		if l.Section == "" {
			missing = append(missing, "limit "+l.Molecule)
		}
	}
	if len(rules.AITSteps) != 10 {
		t.Errorf("%d AIT steps, want 10 (000 §III)", len(rules.AITSteps))
	}
	if len(missing) > 0 {
		t.Errorf("rows without seed section: %v", missing)
	}
}
