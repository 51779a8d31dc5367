package rest

import (
	"encoding/json"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
)

// entryResource reads the resource of a Bundle entry. Its JSON was checked with the
// whole Bundle (fhir.ParseResource in Bundle: syntax, depth and the narratives of
// every entry, then compacted), so only what makes it a resource is read again: its
// resourceType and id, checked as fhir.ParseResource checks them. It saves parsing
// each entry a second time.
func entryResource(body json.RawMessage) (*fhir.Resource, *fhir.Error) {
	var head struct {
		ResourceType json.RawMessage `json:"resourceType"`
		ID           json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "", "body is not a JSON object: %v", err)
	}
	var typ, id string
	if head.ResourceType == nil || json.Unmarshal(head.ResourceType, &typ) != nil || typ == "" {
		return nil, fhir.Errorf(http.StatusBadRequest, "required", "resourceType", "resourceType is missing or not a string")
	}
	if !fhir.IsResourceType(typ) {
		return nil, fhir.Errorf(http.StatusBadRequest, "not-supported", "resourceType", "unknown resource type %q", typ)
	}
	if head.ID != nil && string(head.ID) != "null" {
		if json.Unmarshal(head.ID, &id) != nil || !fhir.ValidID(id) {
			return nil, fhir.Errorf(http.StatusBadRequest, "value", typ+".id", "id must match [A-Za-z0-9-.]{1,64}")
		}
	}
	return &fhir.Resource{Type: typ, ID: id, Body: body}, nil
}
