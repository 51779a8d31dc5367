package rest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// referenceRules is what the search engine knows of reference elements: the types
// each may name (fhir/search derives it from the official search parameters).
type referenceRules interface {
	ReferenceAllows(element, target string) (allowed, known bool)
}

// toleratedTargets are the wrong-typed references the official R4 examples
// themselves carry (errata of the specification): they are stored, with a warning,
// so that every official example round-trips. Key: element and target type.
var toleratedTargets = map[string]string{
	"MedicationRequest.dispenseRequest.performer Practitioner": "R4 example MedicationRequest/medrx0301",
	"Observation.performer Encounter":                          "R4 example Observation/clinical-gender",
	"DeviceMetric.parent DeviceDefinition":                     "R4 example DeviceMetric/example",
}

// checkReferences refuses a reference to a type its element does not allow
// (Observation.subject naming a Medication), and any reference to an AuditEvent: the
// audit trail is the server's record, and a client resource pointing into it would
// make it part of what that resource's readers are shown.
func (s *Service) checkReferences(res *fhir.Resource) ([]fhir.Issue, error) {
	var warnings []fhir.Issue
	rules, _ := s.Engine.(referenceRules)
	for _, r := range fhir.References(res.Type, res.Body) {
		target := fhir.ReferenceType(r.Value, s.base())
		if target == "" {
			continue
		}
		if target == "AuditEvent" && res.Type != "AuditEvent" {
			return nil, fhir.Errorf(http.StatusUnprocessableEntity, "invalid", r.Expression,
				"%s: a client resource may not reference an AuditEvent (%s): the audit trail is the server's own record", r.Expression, r.Value)
		}
		if rules == nil {
			continue
		}
		ok, known := rules.ReferenceAllows(r.Element, target)
		if !known || ok {
			continue
		}
		if why, tolerated := toleratedTargets[r.Element+" "+target]; tolerated {
			warnings = append(warnings, fhir.Issue{Severity: fhir.SeverityWarning, Code: "invalid", Expression: []string{r.Expression},
				Diagnostics: fmt.Sprintf("%s: R4 does not let %s reference a %s; accepted because the specification's own %s does", r.Expression, r.Element, target, why)})
			continue
		}
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "invalid", r.Expression,
			"%s: %s may not reference a %s (%s)", r.Expression, r.Element, target, strings.TrimSpace(r.Value))
	}
	return warnings, nil
}
