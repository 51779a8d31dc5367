package smart

import (
	"net/http"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// Access is what a FHIR REST request does, as far as its method and path tell.
type Access struct {
	Interaction  Interaction // 0 when the path alone cannot tell (see System)
	ResourceType string
	ID           string
	// Compartment is set for "Patient/{id}/{Type}" compartment searches: the
	// compartment's patient id (ResourceType is then the searched type).
	Compartment string
	// System marks base-level requests (transaction/batch, system search and history,
	// system operations) that the server must check entry by entry or type by type.
	System bool
}

// Classify reads a FHIR REST request. rel is the path below the FHIR base ("" for the
// base, "CarePlan/1/_history"…).
func Classify(method, rel string) Access {
	rel = strings.Trim(rel, "/")
	seg := []string{}
	if rel != "" {
		seg = strings.Split(rel, "/")
	}
	if len(seg) == 0 || !fhir.IsResourceType(seg[0]) {
		return Access{System: true}
	}
	a := Access{ResourceType: seg[0]}
	switch len(seg) {
	case 1:
		a.Interaction = typeLevel(method)
	case 2:
		switch {
		case seg[1] == "_search" && method == http.MethodPost:
			a.Interaction = InteractionSearch
		case seg[1] == "_history":
			a.Interaction = InteractionHistoryType
		case strings.HasPrefix(seg[1], "$"):
			a.Interaction = InteractionOperation
		default:
			a.ID = seg[1]
			a.Interaction = instanceLevel(method)
		}
	default:
		a.ID = seg[1]
		switch {
		case seg[2] == "_history" && len(seg) == 3:
			a.Interaction = InteractionHistoryInstance
		case seg[2] == "_history" && len(seg) == 4:
			a.Interaction = InteractionVRead
		case strings.HasPrefix(seg[2], "$"):
			a.Interaction = InteractionOperation
		case a.ResourceType == "Patient" && fhir.IsResourceType(seg[2]):
			a.Compartment, a.ResourceType, a.ID = seg[1], seg[2], ""
			a.Interaction = InteractionSearch
		}
	}
	return a
}

// typeLevel and instanceLevel map the method of a "[type]" request (conditional
// writes included) and of a "[type]/[id]" request to the interaction; absent: none.
var (
	typeLevelMethods = map[string]Interaction{
		http.MethodGet: InteractionSearch, http.MethodHead: InteractionSearch, http.MethodPost: InteractionCreate,
		http.MethodPut: InteractionUpdate, http.MethodPatch: InteractionPatch, http.MethodDelete: InteractionDelete,
	}
	instanceLevelMethods = map[string]Interaction{
		http.MethodGet: InteractionRead, http.MethodHead: InteractionRead,
		http.MethodPut: InteractionUpdate, http.MethodPatch: InteractionPatch, http.MethodDelete: InteractionDelete,
	}
)

func typeLevel(method string) Interaction     { return typeLevelMethods[method] }
func instanceLevel(method string) Interaction { return instanceLevelMethods[method] }
