package mapping

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// completeDossier is the FR Core fixture's dossier (complete at its referral date).
func completeDossier(t *testing.T) Dossier {
	d, err := DossierFromBundle(fixture(t, "referral-frcore.json"))
	if err != nil {
		t.Fatal(err)
	}
	if is := CheckDossier(d, received); len(is) != 0 {
		t.Fatalf("fixture dossier not complete: %+v", is)
	}
	return d
}

// withEvidence replaces the evidence of one element.
func withEvidence(d Dossier, ev Evidence) Dossier {
	out := Dossier{ReferralDate: d.ReferralDate}
	for _, e := range d.Evidence {
		if e.Element != ev.Element {
			out.Evidence = append(out.Evidence, e)
		}
	}
	out.Evidence = append(out.Evidence, ev)
	return out
}

func without(d Dossier, keys ...string) Dossier {
	out := Dossier{ReferralDate: d.ReferralDate}
	for _, e := range d.Evidence {
		drop := false
		for _, k := range keys {
			drop = drop || e.Element == k
		}
		if !drop {
			out.Evidence = append(out.Evidence, e)
		}
	}
	return out
}

func single(t *testing.T, issues []fhir.Issue, code, mention string) {
	t.Helper()
	if len(issues) != 1 || issues[0].Code != code || !strings.Contains(issues[0].Diagnostics, mention) || len(issues[0].Expression) == 0 {
		t.Errorf("want one %s issue mentioning %q, got %+v", code, mention, issues)
	}
}

func TestLabsLessThan1MonthOld(t *testing.T) {
	d := completeDossier(t) // referral 2026-03-02
	for _, tc := range []struct {
		date  time.Time
		stale bool
	}{
		{time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC), true},   // exactly 1 month: not "less than"
		{time.Date(2026, 2, 2, 22, 0, 0, 0, time.UTC), true},  // the same day in Paris, later: still 1 month
		{time.Date(2026, 2, 2, 23, 0, 1, 0, time.UTC), false}, // 3 February in Paris: less than 1 month
		{time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), true},
	} {
		v := Quantity{3200, "/mm3"}
		is := CheckDossier(withEvidence(d, Evidence{Element: "neutrophils", Type: "Observation", Date: tc.date, Dated: true, Value: &v}), received)
		if tc.stale {
			single(t, is, "business-rule", "751-8")
			if len(is) == 1 && is[0].Details.Coding[0].Code != "000 §V.2.c" {
				t.Errorf("stale lab does not cite 000 §V.2.c: %+v", is[0].Details)
			}
		} else if len(is) != 0 {
			t.Errorf("lab of %s stale: %+v", tc.date, is)
		}
	}
	is := CheckDossier(withEvidence(d, Evidence{Element: "neutrophils", Type: "Observation", Value: &Quantity{3200, "/mm3"}}), received)
	single(t, is, "business-rule", "no date")
}

func TestImagingLessThan6WeeksOld(t *testing.T) {
	d := completeDossier(t)
	ref := d.ReferralDate
	for _, tc := range []struct {
		date  time.Time
		stale bool
	}{{ref.AddDate(0, 0, -42), true}, {ref.AddDate(0, 0, -42).Add(time.Second), true}, {ref.AddDate(0, 0, -41), false}} {
		is := CheckDossier(withEvidence(d, Evidence{Element: "brain-imaging", Type: "DiagnosticReport", Date: tc.date, Dated: true}), received)
		if tc.stale {
			single(t, is, "business-rule", "000 §V.2.d")
		} else if len(is) != 0 {
			t.Errorf("imaging of %s stale: %+v", tc.date, is)
		}
	}
}

func TestNeutrophilsAbove500AndPlateletsAbove80000(t *testing.T) {
	d := completeDossier(t)
	date := d.ReferralDate.AddDate(0, 0, -3)
	for _, tc := range []struct {
		el    string
		value float64
		ok    bool
	}{
		{"neutrophils", 500, false}, {"neutrophils", 501, true},
		{"platelets", 80000, false}, {"platelets", 80001, true},
	} {
		v := Quantity{tc.value, "/mm3"}
		is := CheckDossier(withEvidence(d, Evidence{Element: tc.el, Type: "Observation", Date: date, Dated: true, Value: &v}), received)
		if tc.ok && len(is) != 0 || !tc.ok && (len(is) != 1 || is[0].Code != "value") {
			t.Errorf("%s %g: %+v", tc.el, tc.value, is)
		}
	}
}

func TestCoagulationNormal(t *testing.T) {
	d := completeDossier(t)
	date := d.ReferralDate.AddDate(0, 0, -3)
	tp := func(v float64, flag string, lo *float64) Dossier {
		return withEvidence(d, Evidence{Element: "prothrombin", Type: "Observation", Date: date, Dated: true, Value: &Quantity{v, "%"}, Abnormal: flag, RefLow: lo})
	}
	single(t, CheckDossier(tp(55, "", nil), received), "value", "below 70")
	single(t, CheckDossier(tp(85, "L", nil), received), "value", "flagged abnormal")
	lo := 50.0
	if is := CheckDossier(tp(55, "", &lo), received); len(is) != 0 {
		t.Errorf("the laboratory's own range is not used: %+v", is)
	}
	// An INR stands for the PT; missing both PT and INR is one missing element.
	single(t, CheckDossier(without(d, "prothrombin"), received), "required", "prothrombin time")
	inr := withEvidence(without(d, "prothrombin"), Evidence{Element: "inr", Type: "Observation", Date: date, Dated: true, Value: &Quantity{1.1, "{INR}"}})
	if is := CheckDossier(inr, received); len(is) != 0 {
		t.Errorf("INR not accepted for the PT: %+v", is)
	}
	// PT in seconds (LOINC 5902-2) stands for it too; its "normal" is the laboratory's.
	if lab, ok := rules.LabByLOINC("5902-2"); !ok || lab.Unit != "s" {
		t.Fatalf("LOINC 5902-2 (PT in seconds) not recognised: %+v", lab)
	}
	sec := withEvidence(without(d, "prothrombin"), Evidence{Element: "prothrombin-time", Type: "Observation", Date: date, Dated: true, Value: &Quantity{12.5, "s"}})
	if is := CheckDossier(sec, received); len(is) != 0 {
		t.Errorf("PT in seconds not accepted for the PT: %+v", is)
	}
	hi := 13.0
	sec = withEvidence(without(d, "prothrombin"), Evidence{Element: "prothrombin-time", Type: "Observation", Date: date, Dated: true, Value: &Quantity{16, "s"}, RefHigh: &hi})
	single(t, CheckDossier(sec, received), "value", "above 13")
}

// TestPerformanceAndPainCarryTheProfileLOINC: a WHO performance status sent with the
// guide's local code only, and a pain score sent as LOINC 38208-5, get the LOINC
// coding their profiles fix (89247-1, 72514-3) beside the codes sent (000 §V.2.a-b).
func TestPerformanceAndPainCarryTheProfileLOINC(t *testing.T) {
	for _, tc := range []struct{ system, code, profile, want string }{
		{CodeSystemAIT, "who-performance-status", ProfilePerformance, "89247-1"},
		{SystemLOINC, "38208-5", ProfilePain, "72514-3"},
	} {
		r := object{"resourceType": "Observation", "code": map[string]any{"coding": []any{map[string]any{"system": tc.system, "code": tc.code}}}}
		rec, ok := recognise(r)
		if !ok || rec.Profile != tc.profile {
			t.Fatalf("%s: recognised as %+v", tc.code, rec)
		}
		if !addProfileCode(r, rec.Profile) || addProfileCode(r, rec.Profile) {
			t.Errorf("%s: the LOINC coding must be added once", tc.code)
		}
		code := obj(r, "code")
		if !hasCoding(code, []string{SystemLOINC + "|" + tc.want}) || !hasCoding(code, []string{tc.system + "|" + tc.code}) || len(codings(code)) != 2 {
			t.Errorf("%s: codings %v", tc.code, codings(obj(r, "code")))
		}
	}
}

func TestDossierMissingElementsNameLOINCAndSection(t *testing.T) {
	is := CheckDossier(Dossier{}, received)
	if len(is) != len(rules.DossierElements) {
		t.Fatalf("empty dossier: %d issues, want %d", len(is), len(rules.DossierElements))
	}
	for _, i := range is {
		if i.Code != "required" || i.Details == nil || !strings.HasPrefix(i.Details.Coding[0].Code, "000 §V") || len(i.Details.Coding) < 2 {
			t.Errorf("issue lacks section or element code: %+v", i)
		}
	}
	if !strings.Contains(is[4].Diagnostics, "http://loinc.org 751-8") {
		t.Errorf("neutrophils issue does not name LOINC 751-8: %s", is[4].Diagnostics)
	}
}

func TestDossierStatusParameters(t *testing.T) {
	for _, tc := range []struct {
		d        Dossier
		complete bool
		issues   int
	}{{completeDossier(t), true, 1}, {without(completeDossier(t), "platelets", "medication-review"), false, 2}} {
		var p struct {
			ResourceType string
			Parameter    []struct {
				Name         string
				ValueBoolean *bool
				Resource     *fhir.OperationOutcome
			}
		}
		if err := json.Unmarshal(DossierStatus(tc.d, received), &p); err != nil {
			t.Fatal(err)
		}
		if p.ResourceType != "Parameters" || len(p.Parameter) != 2 || p.Parameter[0].Name != "complete" ||
			*p.Parameter[0].ValueBoolean != tc.complete || p.Parameter[1].Name != "outcome" || len(p.Parameter[1].Resource.Issue) != tc.issues {
			t.Errorf("status: %+v", p)
		}
	}
}

// fakeRecords serves stored resources by "Type/id".
type fakeRecords map[string][]byte

func (f fakeRecords) Read(typ, id string) ([]byte, error) {
	if b, ok := f[typ+"/"+id]; ok {
		return b, nil
	}
	return nil, fhir.ErrNotFound
}

func (f fakeRecords) Search(string, string) ([][]byte, error) { return nil, nil }

func TestLoadDossierReadsSupportingInfo(t *testing.T) {
	es := entries(t, intake(t, "referral-frcore.json").Bundle)
	store := fakeRecords{}
	ids := map[string]string{} // fullUrl -> Type/id, as the transaction would assign
	for i, e := range es {
		r := obj(e, "resource")
		ids[str(e, "fullUrl")] = fmt.Sprintf("%s/id%d", str(r, "resourceType"), i)
	}
	for i, e := range es {
		r := obj(e, "resource")
		r["id"] = fmt.Sprintf("id%d", i)
		for _, s := range objs(r, "supportingInfo") {
			s["reference"] = ids[str(s, "reference")]
		}
		b, _ := json.Marshal(r)
		store[ids[str(e, "fullUrl")]] = b
	}
	d, err := LoadDossier(store, "id3")
	if err != nil {
		t.Fatal(err)
	}
	if is := CheckDossier(d, received); len(is) != 0 || len(d.Evidence) != 19 {
		t.Errorf("loaded dossier: %d elements, issues %+v", len(d.Evidence), is)
	}
	delete(store, "Observation/id4")
	if _, err := LoadDossier(store, "id3"); err == nil {
		t.Error("a dangling supportingInfo reference is not reported")
	}
}

func TestUnitNormalisation(t *testing.T) {
	for _, tc := range []struct {
		lab   string
		in    Quantity
		value float64
	}{
		{"platelets", Quantity{210, "10*3/uL"}, 210000}, {"platelets", Quantity{210, "10*9/L"}, 210000},
		{"platelets", Quantity{210000, "/mm3"}, 210000}, {"neutrophils", Quantity{0.5, "10*9/L"}, 500},
		{"neutrophils", Quantity{1.2, "G/L"}, 1200}, {"creatinine", Quantity{1, "mg/dL"}, 88.42},
		{"creatinine", Quantity{70, "umol/L"}, 70}, {"glucose", Quantity{180, "mg/dL"}, 9.9918},
		{"haemoglobin", Quantity{112, "g/L"}, 11.2}, {"calcium", Quantity{10, "mg/dL"}, 2.495},
	} {
		lab, _ := rules.LabByKey(tc.lab)
		got, err := Normalise(lab, tc.in)
		if err != nil || got.Unit != lab.Unit || got.Value < tc.value-1e-6 || got.Value > tc.value+1e-6 {
			t.Errorf("%s %v: %v %v, want %g %s", tc.lab, tc.in, got, err, tc.value, lab.Unit)
		}
	}
	lab, _ := rules.LabByKey("platelets")
	if _, err := Normalise(lab, Quantity{3, "mg"}); err == nil {
		t.Error("a unit the table does not list was converted")
	}
}
