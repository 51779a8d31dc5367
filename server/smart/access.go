package smart

import (
	"net/url"

	"github.com/aitgw/aitgw/fhir/rest"
)

// restInteractions maps the interaction names of fhir/rest to SMART's.
var restInteractions = map[string]Interaction{
	"read":             InteractionRead,
	"vread":            InteractionVRead,
	"history-instance": InteractionHistoryInstance,
	"create":           InteractionCreate,
	"update":           InteractionUpdate,
	"patch":            InteractionPatch,
	"delete":           InteractionDelete,
	"search-type":      InteractionSearch,
	"history-type":     InteractionHistoryType,
	"history-system":   InteractionHistoryType,
	"operation":        InteractionOperation,
}

// Access adapts a verified grant to what fhir/rest enforces on every path: scopes per
// interaction and type, the patient compartment of a patient-context token, and SMART
// v2 query constraints.
func (g *Grant) Access() rest.Access { return grantAccess{g} }

type grantAccess struct{ g *Grant }

func (a grantAccess) Allows(interaction, typ string) bool {
	in, ok := restInteractions[interaction]
	return ok && a.g.Allows(in, typ)
}

func (a grantAccess) Patient(interaction, typ string) string {
	in, ok := restInteractions[interaction]
	if !ok || a.g.PatientContext() == "" {
		return a.g.PatientContext()
	}
	if a.g.PatientScoped(in, typ) {
		return a.g.PatientContext()
	}
	return ""
}

func (a grantAccess) CompartmentParams(typ string) []string { return CompartmentParams(typ) }

func (a grantAccess) Constraints(interaction, typ string) []url.Values {
	in, ok := restInteractions[interaction]
	if !ok {
		return nil
	}
	return a.g.ConstraintsFor(in, typ)
}
