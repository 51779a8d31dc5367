package rest

import (
	"net/http"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// referenceRules is what the search engine knows of reference elements: the types
// each may name (fhir/search derives it from the official search parameters).
type referenceRules interface {
	ReferenceAllows(element, target string) (allowed, known bool)
}

// checkReferences refuses a reference to a type its element does not allow
// (Observation.subject naming a Medication), and any reference to an AuditEvent: the
// audit trail is the server's record, and a client resource pointing into it would
// make it part of what that resource's readers are shown.
func (s *Service) checkReferences(res *fhir.Resource) error {
	rules, _ := s.Engine.(referenceRules)
	for _, r := range fhir.References(res.Type, res.Body) {
		target := fhir.ReferenceType(r.Value, s.base())
		if target == "" {
			continue
		}
		if target == "AuditEvent" && res.Type != "AuditEvent" {
			return fhir.Errorf(http.StatusUnprocessableEntity, "invalid", r.Expression,
				"%s: a client resource may not reference an AuditEvent (%s): the audit trail is the server's own record", r.Expression, r.Value)
		}
		if rules == nil {
			continue
		}
		if ok, known := rules.ReferenceAllows(r.Element, target); known && !ok {
			return fhir.Errorf(http.StatusUnprocessableEntity, "invalid", r.Expression,
				"%s: %s may not reference a %s (%s)", r.Expression, r.Element, target, strings.TrimSpace(r.Value))
		}
	}
	return nil
}
