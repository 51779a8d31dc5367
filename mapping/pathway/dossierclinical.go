package pathway

import (
	"encoding/json"
	"net/url"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping"
)

// clinicalSearchCount bounds how many statements or conditions of a patient the
// dossier status reads (one page).
const clinicalSearchCount = "500"

// withClinicalStatus adds to a $ait-dossier-status Parameters what is known of the
// indication at referral (000 §IV): the oral morphine equivalent computed from the
// patient's MedicationStatements and MedicationRequests ("ome": total, lower bound,
// one line per dosage, the statements left out) and the contraindications among the
// patient's Conditions ("contraindications": an OperationOutcome; absolute ones as
// errors). The records are read with the client's Access: what it may not read is not
// counted. status is returned unchanged when the referral has no subject.
func withClinicalStatus(r mapping.Records, serviceRequestID string, status []byte) ([]byte, error) {
	sr, err := r.Read("ServiceRequest", serviceRequestID)
	if err != nil {
		return nil, err
	}
	subject := ref(decode(sr), "subject")
	if subject == "" {
		return status, nil
	}
	q := "subject=" + url.QueryEscape(subject) + "&_count=" + clinicalSearchCount
	var meds [][]byte
	for _, typ := range []string{"MedicationStatement", "MedicationRequest"} {
		b, err := r.Search(typ, q)
		if err != nil {
			return nil, err
		}
		meds = append(meds, b...)
	}
	conds, err := r.Search("Condition", q)
	if err != nil {
		return nil, err
	}
	ome := mapping.OME(meds)
	found := mapping.FindContraindications(conds)
	issues := append(mapping.ContraindicationIssues(found), ome.Issues...)
	if len(issues) == 0 {
		issues = []fhir.Issue{{Severity: fhir.SeverityInformation, Code: "informational",
			Diagnostics: "no contraindication among the patient's conditions (000 §IV)"}}
	}
	var p map[string]any
	if err := json.Unmarshal(status, &p); err != nil {
		return nil, err
	}
	params, _ := p["parameter"].([]any)
	params = append(params, mapping.OMEParameter(ome),
		map[string]any{"name": "contraindications", "resource": fhir.NewOutcome(issues...)})
	p["parameter"] = params
	return json.Marshal(p)
}
