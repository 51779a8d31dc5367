package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/profiles"
)

// samplePathway is the sample patient's whole AIT pathway as an EHR posts it.
type samplePathway struct {
	Dossier  kit.Dossier
	CarePlan string // id
	Cast     kit.Cast
	Patient  map[string]any
}

// postSamplePathway posts the referral and every step of the kit's AIT pathway, then
// what the pump screen and the dose chart need beyond it: the pump (Device), a
// ziconotide titration (a second prescription, a step under 2.4 ug/d at least 48 h
// later, 000 §IX.1.c) and a fourth refill that records the volume instilled and the
// programmed flow.
func postSamplePathway(t *testing.T, c *Client) samplePathway {
	t.Helper()
	d, careplan := postReferral(t, c)
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	post := func(name string, body []byte) {
		t.Helper()
		if _, err := (httpPoster{c}).Create(body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, s := range kit.AITSteps(d, cast) {
		post(s.Name, s.Body)
	}
	post("pump", kit.JSON(map[string]any{"resourceType": "Device", "status": "active",
		"type":    map[string]any{"coding": []any{map[string]any{"system": mapping.CodeSystemAIT, "code": "intrathecal-pump"}}},
		"patient": map[string]any{"reference": d.Patient}, "manufacturer": "Medtronic",
		"deviceName": []any{map[string]any{"name": "SynchroMed II", "type": "model-name"}},
		"property": []any{map[string]any{
			"type":          map[string]any{"coding": []any{map[string]any{"system": mapping.CodeSystemAIT, "code": "reservoir-volume"}}},
			"valueQuantity": []any{map[string]any{"value": 40, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}}}}}))
	post("titration", titration(t, d, cast, "2026-06-20T11:00:00Z", 3.5, 4.0))
	post("flow prescription", flowPrescription(t, d, cast, "2026-07-18T09:00:00Z"))
	var refill map[string]any
	json.Unmarshal(kit.Refill(d, cast, cast.Refiller, "2026-07-18T10:00:00Z", "2026-08-15T09:00:00Z"), &refill)
	q := func(v float64, unit string) map[string]any {
		return map[string]any{"value": v, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
	}
	refill["extension"] = append(refill["extension"].([]any),
		map[string]any{"url": mapping.ExtVolumeInstilled, "valueQuantity": q(38, "mL")},
		map[string]any{"url": mapping.ExtFlowRate, "valueQuantity": q(0.6, "mL/d")})
	post("refill 4", kit.JSON(refill))
	// clinical issues as an EHR or the gateway records them: one open, one withdrawn
	for _, status := range []string{"final", "cancelled"} {
		post("DetectedIssue "+status, kit.JSON(map[string]any{"resourceType": "DetectedIssue", "status": status, "severity": "high",
			"code":    map[string]any{"text": "Ziconotide : palier de titration à surveiller"},
			"patient": map[string]any{"reference": d.Patient}, "identifiedDateTime": "2026-06-21T09:00:00Z",
			"detail": "Contrôler l'état psychique avant le prochain palier (" + status + ")."}))
	}
	r, err := c.Do(http.MethodGet, d.Patient, nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("read %s: %v %s", d.Patient, err, r)
	}
	var p map[string]any
	json.Unmarshal(r.Body, &p)
	return samplePathway{Dossier: d, CarePlan: careplan, Cast: cast, Patient: p}
}

// titration is the guide's example prescription (morphine and ziconotide) for the
// patient, with new daily doses.
func titration(t *testing.T, d kit.Dossier, cast kit.Cast, at string, morphineMg, ziconotideUg float64) []byte {
	t.Helper()
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	for _, ex := range pkg.Examples() {
		if ex.Type == "MedicationRequest" {
			json.Unmarshal(ex.Body, &r)
		}
	}
	if r == nil {
		t.Fatal("the guide has no example MedicationRequest")
	}
	delete(r, "id")
	r["subject"] = map[string]any{"reference": d.Patient}
	r["requester"] = map[string]any{"reference": cast.AlgologistRole}
	r["authoredOn"] = at
	for _, di := range r["dosageInstruction"].([]any) {
		line := di.(map[string]any)
		rate := line["doseAndRate"].([]any)[0].(map[string]any)["rateQuantity"].(map[string]any)
		switch rate["code"] {
		case "mg/d":
			rate["value"], line["text"] = morphineMg, "morphine"
		case "ug/d":
			rate["value"], line["text"] = ziconotideUg, "ziconotide"
		}
	}
	return kit.JSON(r)
}

// flowPrescription is a morphine and ropivacaine mixture prescribed by its pump flow
// only (no dosage line per molecule): each daily dose is concentration × flow,
// 5 mg/mL × 0.7 mL/d = 3.5 mg/d of morphine and 10 mg/mL × 0.7 mL/d = 7 mg/d of
// ropivacaine, within its 6–8 mg/d (000 §IX.1.b). It claims no profile (the guide's
// requires a line per molecule): its intrathecal route makes it one.
func flowPrescription(t *testing.T, d kit.Dossier, cast kit.Cast, at string) []byte {
	t.Helper()
	ing := func(atc, name string, mg float64) map[string]any {
		return map[string]any{
			"itemCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": "http://www.whocc.no/atc", "code": atc, "display": name}}},
			"strength": map[string]any{
				"numerator":   map[string]any{"value": mg, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
				"denominator": map[string]any{"value": 1, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}}}
	}
	return kit.JSON(map[string]any{"resourceType": "MedicationRequest",
		"contained": []any{map[string]any{"resourceType": "Medication", "id": "mix", "ingredient": []any{ing("N02AA01", "morphine", 5), ing("N01BB09", "ropivacaine", 10)}}},
		"status":    "active", "intent": "order", "medicationReference": map[string]any{"reference": "#mix"},
		"subject": map[string]any{"reference": d.Patient}, "authoredOn": at, "requester": map[string]any{"reference": cast.AlgologistRole},
		"dosageInstruction": []any{map[string]any{"text": "pompe 0,7 mL/j",
			"route":       map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "72607000", "display": "Intrathecal route"}}},
			"doseAndRate": []any{map[string]any{"rateQuantity": map[string]any{"value": 0.7, "unit": "mL/d", "system": "http://unitsofmeasure.org", "code": "mL/d"}}}}}})
}

// addClinicianLogin creates a login for the practitioner ref with password.
func addClinicianLogin(t *testing.T, g *Gateway, user, ref, password string) {
	t.Helper()
	cmd := exec.Command(binary, "users", "add", "--user", user, "--fhir-user", ref, "--data", g.DataDir, "--base-url", g.BaseURL)
	cmd.Env = append(os.Environ(), "AITGW_USER_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aitgw users add: %v %s", err, out)
	}
}

// viewGetJSON GETs path with the operator token and decodes the body.
func viewGetJSON(t *testing.T, c *Client, path string, out any) {
	t.Helper()
	r, err := c.Do(http.MethodGet, path, nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET %s: %v %s", path, err, r)
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// viewSearch GETs a search with the operator token and returns its resources.
func viewSearch(t *testing.T, c *Client, query string) []json.RawMessage {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	viewGetJSON(t, c, query, &b)
	out := make([]json.RawMessage, 0, len(b.Entry))
	for _, e := range b.Entry {
		out = append(out, e.Resource)
	}
	return out
}

// idOf is the id of a "Type/id" reference.
func idOf(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }
