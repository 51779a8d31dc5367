package mapping

import (
	"fmt"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
)

// Records is what the mapping reads of stored data. The store adapts to it; the
// interface sits here, with its only user.
type Records interface {
	// Read returns the current JSON of a resource, or an error wrapping
	// fhir.ErrNotFound / fhir.ErrGone.
	Read(typ, id string) ([]byte, error)
	// Search returns the JSON of the resources of typ matching a FHIR query string.
	Search(typ, query string) ([][]byte, error)
}

// LoadDossier reads a referral ServiceRequest and the resources its supportingInfo
// references, and builds the dossier (000 §V.2). A reference that cannot be read is an
// error naming it; the dossier is never silently partial.
func LoadDossier(r Records, serviceRequestID string) (Dossier, error) {
	sr, err := r.Read("ServiceRequest", serviceRequestID)
	if err != nil {
		return Dossier{}, err
	}
	m, err := decodeObject(sr)
	if err != nil {
		return Dossier{}, fhir.Errorf(http.StatusInternalServerError, "exception", "", "stored ServiceRequest is not JSON")
	}
	resources := [][]byte{sr}
	for i, s := range objs(m, "supportingInfo") {
		typ, id, ok := refParts(str(s, "reference"))
		if !ok {
			continue // a contained or logical reference: not a dossier resource
		}
		b, err := r.Read(typ, id)
		if fe := fhir.AsError(err); err != nil && fe.Status == http.StatusForbidden {
			return Dossier{}, err // the client may not read the whole dossier: no partial answer
		}
		if err != nil {
			return Dossier{}, fhir.Errorf(http.StatusUnprocessableEntity, "not-found",
				fmt.Sprintf("ServiceRequest.supportingInfo[%d]", i), "dossier element %s/%s cannot be read", typ, id)
		}
		resources = append(resources, b)
	}
	return DossierFromResources(resources)
}
