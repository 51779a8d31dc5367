// Package lettertest is the sample AIT pathway the letters are tested on: the
// guide's example resources (patient with INS, referral and its dossier, RCP Task,
// pump Device, implantation and refill Procedures, prescription) completed with the
// steps the guide has no example of (consultations, planning, admission, discharge,
// a second prescription, a complication, a trial, an IR pathway), and a store of
// them that answers reads and patient searches.
package lettertest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/profiles"
)

// Patient and the other references of the sample pathway.
const (
	Patient      = "Patient/ait-patient-example"
	Referral     = "ServiceRequest/ait-referral-example"
	GP           = "Practitioner/ait-gp-example"
	Referrer     = "Practitioner/ait-referrer-example"
	Algologist   = "PractitionerRole/ait-role-algologist"
	RefillCentre = "Organization/ait-refill-centre-example"
	// GPMail is the GP's MSSanté address the sample adds.
	GPMail = "paul.docteur@medecin.mssante.fr"
)

const ait = mapping.CodeSystemAIT

// Extra are the resources the sample adds to the guide's examples.
func Extra() []string {
	enc := func(id, code, start string, more string) string {
		return fmt.Sprintf(`{"resourceType":"Encounter","id":%q,"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"type":[{"coding":[{"system":%q,"code":%q}]}],"subject":{"reference":%q},"period":{"start":%q}%s}`,
			id, ait, code, Patient, start, more)
	}
	return []string{
		// the GP's and the algologist's secure addresses, the centres' phones
		`{"resourceType":"Practitioner","id":"ait-gp-example","identifier":[{"system":"https://rpps.esante.gouv.fr","value":"10000000001"}],"name":[{"family":"Docteur","given":["Paul"]}],"telecom":[{"system":"email","value":"` + GPMail + `"}]}`,
		`{"resourceType":"Organization","id":"ait-implanting-centre-example","identifier":[{"system":"https://finess.esante.gouv.fr","value":"590780193"}],"type":[{"coding":[{"system":"` + ait + `","code":"implanting-centre"}]}],"name":"CHU Exemple","telecom":[{"system":"phone","value":"03 20 00 00 00"}]}`,
		`{"resourceType":"Organization","id":"ait-refill-centre-example","identifier":[{"system":"https://finess.esante.gouv.fr","value":"590000212"}],"type":[{"coding":[{"system":"` + ait + `","code":"refill-centre"}]}],"name":"CH Proximité","telecom":[{"system":"phone","value":"03 21 11 11 11"}]}`,
		// a medication review with an anticoagulant and methadone (000 §VII)
		`{"resourceType":"MedicationStatement","id":"review-apixaban","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"B01AF02","display":"apixaban"}]},"subject":{"reference":"` + Patient + `"}}`,
		enc("algology", "algology-consultation", "2026-03-16T10:00:00+01:00", ""),
		enc("anaesthesia", "anaesthesia-consultation", "2026-03-16T11:30:00+01:00", ""),
		`{"resourceType":"ServiceRequest","id":"planning","status":"active","intent":"plan","code":{"coding":[{"system":"` + ait + `","code":"planning"}]},"subject":{"reference":"` + Patient + `"},"basedOn":[{"reference":"` + Referral + `"}],"authoredOn":"2026-03-18T09:00:00+01:00","requester":{"reference":"` + Algologist + `"},"extension":[{"url":"` + mapping.ExtPlannedDate + `","valueDateTime":"2026-04-02T09:30:00+02:00"}]}`,
		enc("admission", "admission", "2026-04-01T15:00:00+02:00", ""),
		enc("discharge", "discharge", "2026-04-09T11:00:00+02:00", `,"serviceProvider":{"reference":"`+RefillCentre+`"},"extension":[{"url":"`+mapping.ExtNextRefill+`","valueDateTime":"2026-05-05T10:00:00+02:00"}]`),
		enc("complication", "complication", "2026-05-20T16:00:00+02:00", `,"reasonCode":[{"text":"céphalées posturales évoquant une fuite de LCS"}]`),
		enc("trial", "trial-positive", "2026-03-01T10:00:00+01:00", `,"reasonCode":[{"text":"soulagement de 70 % à 4 semaines"}]`),
		// the refill's prescription: morphine raised from 3 to 4 mg/d
		prescription("ait-prescription-2", "2026-05-04", 4),
		// the IR pathway's RCP (003)
		`{"resourceType":"Task","id":"ir-rcp","status":"completed","intent":"order","code":{"coding":[{"system":"` + ait + `","code":"ir-rcp"}]},"for":{"reference":"` + Patient + `"},"executionPeriod":{"start":"2026-01-22T14:00:00+01:00"},"reasonCode":{"text":"cimentoplastie de la vertèbre L2"},"output":[{"type":{"text":"décision"},"valueCodeableConcept":{"text":"indication de cimentoplastie retenue"}}]}`,
	}
}

// prescription is the guide's example prescription with another id, date and
// morphine dose.
func prescription(id, at string, morphine float64) string {
	pkg, _ := profiles.Load()
	for _, ex := range pkg.Examples() {
		if ex.Type == "MedicationRequest" {
			var m map[string]any
			_ = json.Unmarshal(ex.Body, &m)
			m["id"], m["authoredOn"] = id, at
			di := m["dosageInstruction"].([]any)[0].(map[string]any)
			di["doseAndRate"].([]any)[0].(map[string]any)["rateQuantity"].(map[string]any)["value"] = morphine
			b, _ := json.Marshal(m)
			return string(b)
		}
	}
	return ""
}

// Store holds resources by "Type/id" and answers mapping.Records.
type Store struct {
	byRef map[string][]byte
	order []string
}

// New loads the guide's examples and the Extra resources (later ones replace).
func New() (*Store, error) {
	pkg, err := profiles.Load()
	if err != nil {
		return nil, err
	}
	s := &Store{byRef: map[string][]byte{}}
	for _, ex := range pkg.Examples() {
		s.Put(ex.Body)
	}
	for _, r := range Extra() {
		s.Put([]byte(r))
	}
	// the refill was done with the second prescription
	var refill map[string]any
	_ = json.Unmarshal(s.byRef["Procedure/ait-refill-example"], &refill)
	for _, e := range refill["extension"].([]any) {
		e := e.(map[string]any)
		if strings.HasSuffix(e["url"].(string), "/ait-prescription") {
			e["valueReference"] = map[string]any{"reference": "MedicationRequest/ait-prescription-2"}
		}
	}
	b, _ := json.Marshal(refill)
	s.Put(b)
	return s, nil
}

// Put stores a resource.
func (s *Store) Put(body []byte) {
	var m struct {
		ResourceType, ID string
	}
	_ = json.Unmarshal(body, &m)
	if s.byRef == nil {
		s.byRef = map[string][]byte{}
	}
	k := m.ResourceType + "/" + m.ID
	if _, ok := s.byRef[k]; !ok {
		s.order = append(s.order, k)
	}
	s.byRef[k] = body
}

// All returns every resource, in the order they were first stored.
func (s *Store) All() [][]byte {
	var out [][]byte
	for _, k := range s.order {
		out = append(out, s.byRef[k])
	}
	return out
}

// Read implements mapping.Records.
func (s *Store) Read(typ, id string) ([]byte, error) {
	if b, ok := s.byRef[typ+"/"+id]; ok {
		return b, nil
	}
	return nil, fhir.ErrNotFound
}

// Search implements mapping.Records for "patient=Patient/x" (subject, for, patient).
func (s *Store) Search(typ, query string) ([][]byte, error) {
	q, _ := url.ParseQuery(query)
	want := q.Get("patient")
	var out [][]byte
	for _, k := range s.order {
		if !strings.HasPrefix(k, typ+"/") {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(s.byRef[k], &m)
		for _, f := range []string{"subject", "for", "patient"} {
			if r, ok := m[f].(map[string]any); ok && r["reference"] == want {
				out = append(out, s.byRef[k])
				break
			}
		}
	}
	return out, nil
}
