package pathway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir/rest"
)

// dossierStatus runs $ait-dossier-status and returns its parameters by name.
func dossierStatus(t *testing.T, w *world, referral string) map[string]json.RawMessage {
	t.Helper()
	resp, err := DossierStatus(w.svc)(ctx, &rest.Request{Method: "GET", Type: "ServiceRequest", ID: strings.TrimPrefix(referral, "ServiceRequest/")})
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Parameter []map[string]json.RawMessage `json:"parameter"`
	}
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for _, x := range p.Parameter {
		var name string
		_ = json.Unmarshal(x["name"], &name)
		b, _ := json.Marshal(x)
		out[name] = b
	}
	return out
}

// TestDossierStatusShowsOMEAndContraindications (000 §IV): at referral, before any
// RCP, $ait-dossier-status gives the OME line by line (the fixture's oxycodone, plus an
// IV morphine infusion of 2 mg/h = 144 mg/d) with the methadone left out and named,
// and the absolute contraindications: brain metastases not coded as controlled are one;
// the same coded controlled, or refuted, or resolved, are not.
func TestDossierStatusShowsOMEAndContraindications(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	before := dossierStatus(t, w, d.referral)
	if !strings.Contains(string(before["ome"]), `"name":"line"`) || !strings.Contains(string(before["ome"]), "oxycodone") {
		t.Fatalf("OME of the fixture's review: %s", before["ome"])
	}
	w.create(t, `{"resourceType":"MedicationStatement","status":"active","subject":{"reference":"`+d.patient+`"},
		"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02AA01"}]},
		"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":"47625008"}]},
		"doseAndRate":[{"rateQuantity":{"value":2,"system":"http://unitsofmeasure.org","code":"mg/h"}}]}]}`)
	w.create(t, `{"resourceType":"MedicationStatement","status":"active","subject":{"reference":"`+d.patient+`"},
		"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N07BC02","display":"Méthadone AP-HP"}]},
		"dosage":[{"route":{"coding":[{"system":"http://snomed.info/sct","code":"26643006"}]},"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}},
		"doseAndRate":[{"doseQuantity":{"value":40,"system":"http://unitsofmeasure.org","code":"mg"}}]}]}`)
	brain := func(extra string) string {
		return `{"resourceType":"Condition","subject":{"reference":"` + d.patient + `"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"94225005"}]}` + extra + `}`
	}
	s := dossierStatus(t, w, d.referral)
	ome := string(s["ome"])
	for _, want := range []string{`"molecule","valueString":"morphine"},{"name":"route","valueString":"intravenous"}`,
		`"unit":"mg/d","value":48}},{"name":"factor","valueDecimal":3},{"name":"ome","valueQuantity":{"code":"mg/d","system":"http://unitsofmeasure.org","unit":"mg/d","value":144}}`,
		`"unit":"mg/d","value":464}}`, `"name":"unconverted"`, "Méthadone AP-HP", `"name":"lowerBound","valueBoolean":true`} {
		if !strings.Contains(ome, want) {
			t.Errorf("OME parameter lacks %s:\n%s", want, ome)
		}
	}
	if strings.Contains(string(s["contraindications"]), "absolute") {
		t.Fatalf("a contraindication without any Condition: %s", s["contraindications"])
	}
	for _, tc := range []struct {
		name, extra string
		blocks      bool
	}{
		{"controlled", `,"stage":[{"summary":{"coding":[{"system":"https://fhir.aitgw.org/ig/ait/CodeSystem/ait","code":"controlled"}]}}]`, false},
		{"refuted", `,"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"refuted"}]}`, false},
		{"resolved", `,"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]}`, false},
		{"no qualifier", ``, true},
	} {
		w.create(t, brain(tc.extra))
		got := strings.Contains(string(dossierStatus(t, w, d.referral)["contraindications"]), "absolute contraindication")
		if got != tc.blocks {
			t.Errorf("brain metastases %s: absolute contraindication %v, want %v", tc.name, got, tc.blocks)
		}
	}
}
