package mapping

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/mapping/rules"
)

var received = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func intake(t testing.TB, name string) *IntakeResult {
	t.Helper()
	res, err := Intake(fixture(t, name), IntakeOptions{Received: received})
	if err != nil {
		t.Fatalf("Intake(%s): %v", name, err)
	}
	return res
}

func entries(t testing.TB, bundle []byte) []object {
	t.Helper()
	b, err := decodeObject(bundle)
	if err != nil {
		t.Fatal(err)
	}
	return objs(b, "entry")
}

func TestIntakeAssignsProfilesLinksDossierAndAddsCarePlan(t *testing.T) {
	res := intake(t, "referral-frcore.json")
	es := entries(t, res.Bundle)
	in := entries(t, fixture(t, "referral-frcore.json"))
	if len(es) != len(in)+2 {
		t.Fatalf("entries: got %d, want the %d sent plus the OME Observation and the CarePlan", len(es), len(in))
	}
	var sr, cp object
	for i, e := range es {
		r := obj(e, "resource")
		req := obj(e, "request")
		if str(req, "method") == "POST" && !strings.HasPrefix(str(req, "ifNoneExist"), "identifier=") {
			t.Errorf("entry %d (%s) is not conditional: %v", i, str(r, "resourceType"), req)
		}
		switch str(r, "resourceType") {
		case "ServiceRequest":
			sr = r
		case "CarePlan":
			cp = r
		case "Immunization":
			if obj(r, "meta") != nil {
				t.Errorf("unrecognised Immunization was changed: %v", r)
			}
		case "Patient":
			ps := arr(obj(r, "meta"), "profile")
			if len(ps) != 2 || ps[0] != "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient" || ps[1] != ProfilePatient {
				t.Errorf("Patient profiles: %v (FR Core kept, AIT added)", ps)
			}
		}
	}
	if sr == nil || cp == nil {
		t.Fatal("ServiceRequest or CarePlan missing")
	}
	// 12 labs + status, life expectancy, pain, opinion, 2 imaging, medication review,
	// and the OME Observation the gateway computed (000 §IV).
	if got := len(objs(sr, "supportingInfo")); got != 20 {
		t.Errorf("supportingInfo: %d references, want 20", got)
	}
	if arr(obj(cp, "meta"), "profile")[0] != ProfileCarePlan || len(arr(cp, "activity")) != 10 {
		t.Errorf("CarePlan: want the AIT profile and 10 activities, got %v", cp["meta"])
	}
	reported := false
	for _, is := range res.Issues {
		if strings.Contains(is.Diagnostics, "Immunization") && strings.Contains(is.Diagnostics, "kept as sent") {
			reported = true
		}
	}
	if !reported {
		t.Errorf("the Immunization is not reported as unmapped: %+v", res.Issues)
	}
	// Dossier complete at intake: step 2 done, RCP scheduled until the end of the 15th
	// calendar day in Paris (000 §VI): received 3 March, due 18 March 23:59:59 CET.
	v := res.Pathway.View()
	if v[1].Status != Completed || v[2].Status != Scheduled || !v[2].End.Equal(time.Date(2026, 3, 18, 22, 59, 59, 999999999, time.UTC)) {
		t.Errorf("after intake: dossier %s, rcp %s ending %s", v[1].Status, v[2].Status, v[2].End)
	}
	codes := map[string]bool{}
	for _, m := range res.Milestones {
		codes[m.Code] = true
	}
	if !codes["referral-received"] || !codes["planned-ait-care"] || codes[rules.MilestoneDossierIncomplete] {
		t.Errorf("milestones: %v", codes)
	}
}

// TestIntakeNeverChangesSubmittedValues: every submitted value is in the output,
// byte for byte as a JSON value; the mapping only adds.
func TestIntakeNeverChangesSubmittedValues(t *testing.T) {
	for _, name := range []string{"referral-frcore.json", "referral-plain-r4.json"} {
		res := intake(t, name)
		in, out := entries(t, fixture(t, name)), entries(t, res.Bundle)
		for i := range in {
			if missing := subset(obj(in[i], "resource"), obj(out[i], "resource"), ""); missing != "" {
				t.Errorf("%s entry %d: submitted %s changed or dropped", name, i, missing)
			}
		}
	}
}

// subset reports the first path of a that b does not hold unchanged (arrays: b may
// have more elements appended).
func subset(a, b any, path string) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path
		}
		for k, v := range av {
			if p := subset(v, bv[k], path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(bv) < len(av) {
			return path
		}
		for i := range av {
			if p := subset(av[i], bv[i], path+"[]"); p != "" {
				return p
			}
		}
	default:
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			return path
		}
	}
	return ""
}

func TestIntakeSameReferralTwiceCreatesNothingTwice(t *testing.T) {
	a := intake(t, "referral-plain-r4.json")
	b := intake(t, "referral-plain-r4.json")
	if !bytes.Equal(a.Bundle, b.Bundle) {
		t.Fatal("the same referral gives two different transactions")
	}
	seen := map[string]bool{}
	for _, e := range entries(t, a.Bundle) {
		c := str(obj(e, "request"), "ifNoneExist")
		if c == "" || seen[c] {
			t.Errorf("entry %s: condition %q empty or shared", str(obj(e, "resource"), "resourceType"), c)
		}
		seen[c] = true
	}
}

func TestIntakeAddsNormalisedValueAndKeepsSubmitted(t *testing.T) {
	res := intake(t, "referral-plain-r4.json")
	found := false
	for _, e := range entries(t, res.Bundle) {
		r := obj(e, "resource")
		if !hasCoding(obj(r, "code"), []string{SystemLOINC + "|777-3"}) {
			continue
		}
		found = true
		if q := obj(r, "valueQuantity"); str(q, "code") != "10*3/uL" || q["value"].(json.Number) != "210" {
			t.Errorf("submitted platelets changed: %v", q)
		}
		ext := objs(r, "extension")
		if len(ext) != 1 || str(ext[0], "url") != ExtNormalisedValue {
			t.Fatalf("normalised extension missing: %v", ext)
		}
		if q := obj(ext[0], "valueQuantity"); str(q, "code") != "/mm3" || q["value"].(json.Number) != "210000" {
			t.Errorf("normalised platelets: %v, want 210000 /mm3", q)
		}
	}
	if !found {
		t.Fatal("no platelet Observation")
	}
}

func TestIntakeRefusesWhatIsNotAReferral(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `{`,
		"batch":          `{"resourceType":"Bundle","type":"batch","entry":[]}`,
		"no referral SR": `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}}]}`,
		"not a bundle":   `{"resourceType":"Patient"}`,
	} {
		if _, err := Intake([]byte(body), IntakeOptions{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPlainR4ReferralMapsToSameDossierAsFRCore: other codes and units, no profiles, no
// identifiers on most resources: the same dossier element by element (000 §V.2).
func TestPlainR4ReferralMapsToSameDossierAsFRCore(t *testing.T) {
	a, b := intake(t, "referral-frcore.json"), intake(t, "referral-plain-r4.json")
	if a.OME.MgPerDay != 320 || b.OME.MgPerDay != 320 {
		t.Errorf("OME: %g and %g, want 320 mg/d (oxycodone 80 mg twice a day, factor 2)", a.OME.MgPerDay, b.OME.MgPerDay)
	}
	fr, r4 := a.Dossier, b.Dossier
	if len(fr.Evidence) != len(r4.Evidence) || !fr.ReferralDate.Equal(r4.ReferralDate) {
		t.Fatalf("evidence %d vs %d, referral %s vs %s", len(fr.Evidence), len(r4.Evidence), fr.ReferralDate, r4.ReferralDate)
	}
	for i := range fr.Evidence {
		a, b := fr.Evidence[i], r4.Evidence[i]
		if a.Element != b.Element || !a.Date.Equal(b.Date) {
			t.Errorf("element %d: %s %s vs %s %s", i, a.Element, a.Date, b.Element, b.Date)
		}
		if (a.Value == nil) != (b.Value == nil) {
			t.Errorf("%s: value on one side only", a.Element)
			continue
		}
		if a.Value != nil && (a.Value.Unit != b.Value.Unit || math.Abs(a.Value.Value-b.Value.Value) > 0.01*math.Abs(a.Value.Value)) {
			t.Errorf("%s: %v vs %v", a.Element, *a.Value, *b.Value)
		}
	}
	if s1, s2 := DossierStatus(fr, received), DossierStatus(r4, received); !bytes.Equal(s1, s2) {
		t.Errorf("dossier status differs:\n%s\n%s", s1, s2)
	}
}

// TestIntakeKeepsMalformedElementsAndNeverPanics: odd shapes are reported or kept,
// never replaced, never a panic.
func TestIntakeKeepsMalformedElementsAndNeverPanics(t *testing.T) {
	sr := `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"authoredOn":"2026-03-02"}`
	for _, body := range []string{
		`{"resourceType":"Bundle","type":"transaction","entry":["x",{"resource":` + sr + `}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:9f0c1a8e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","meta":"bad","identifier":"bad"}},{"resource":` + strings.Replace(sr, "Patient/1", "urn:uuid:9f0c1a8e-0000-4000-8000-000000000001", 1) + `}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"777-3"}]},"valueQuantity":{"value":"x"},"extension":5}},{"resource":` + sr + `}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":[1,2]},{"resource":` + sr + `,"request":"odd"}]}`,
	} {
		res, err := Intake([]byte(body), IntakeOptions{Received: received})
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		in, _ := decodeObject([]byte(body))
		out, _ := decodeObject(res.Bundle)
		if p := subset(in, out, ""); p != "" {
			t.Errorf("%s: %s changed", body, p)
		}
		if len(res.Issues) == 0 {
			t.Errorf("%s: nothing reported", body)
		}
	}
}

// A referral is recognised however its JSON spells "ServiceRequest" (the byte search
// that spares plain transactions a decode must never miss one), and a transaction
// without one is not a referral.
func TestIsReferralBundleSpellings(t *testing.T) {
	for _, name := range []string{"referral-frcore.json", "referral-plain-r4.json"} {
		body := fixture(t, name)
		if !IsReferralBundle(body) {
			t.Fatalf("%s: not recognised as a referral", name)
		}
		escaped := bytes.ReplaceAll(body, []byte(`"ServiceRequest"`), []byte(`"\u0053erviceRequest"`))
		if bytes.Equal(escaped, body) {
			t.Fatalf("%s: no ServiceRequest to escape", name)
		}
		if !IsReferralBundle(escaped) {
			t.Errorf("%s: a referral whose resourceType is written \\u0053erviceRequest is not recognised", name)
		}
	}
	plain := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`)
	if IsReferralBundle(plain) {
		t.Error("a transaction without a ServiceRequest is taken for a referral")
	}
}
