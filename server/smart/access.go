package smart

import (
	"net/url"
	"strings"
	"sync"

	"github.com/aitgw/aitgw/fhir"
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
// interaction and type, the patient compartment of a patient-context token, the
// patients a user/ scope's fhirUser may see (CareOf), the owner of owned resources
// (Subscription), and SMART v2 query constraints.
func (g *Grant) Access() rest.Access { return &grantAccess{g: g} }

type grantAccess struct {
	g *Grant
	// care is the fhirUser's Care, computed once per request (a request's
	// transactions see the same care teams but for concurrent writes); mu guards it
	// for operations that may read in parallel.
	mu   sync.Mutex
	care *Care
}

var (
	_ rest.PatientSet = (*grantAccess)(nil)
	_ rest.Owned      = (*grantAccess)(nil)
	_ rest.Confinable = (*grantAccess)(nil)
)

// Patients confines an interaction granted only by patient/ and user/ scopes: to the
// patient in context for patient/ scopes, and to the patients the fhirUser may see for
// user/ ones (a Patient user: itself; a Practitioner: its care; a coordinator: all).
// A system/ scope lifts the confinement.
func (a *grantAccess) Patients(tx fhir.Tx, interaction, typ string) ([]string, bool, error) {
	in, ok := restInteractions[interaction]
	ctx := a.g.PatientContext()
	if !ok || a.g.PatientScoped(in, typ) {
		if ctx == "" {
			return nil, false, nil
		}
		return []string{ctx}, true, nil
	}
	user, patient := false, false
	for s := range a.g.allowing(in, typ) {
		switch s.Context {
		case ContextSystem:
			return nil, false, nil
		case ContextUser:
			user = true
		case ContextPatient:
			patient = true
		}
	}
	if !user {
		return nil, false, nil
	}
	a.mu.Lock()
	if a.care == nil {
		c, err := CareOf(tx, a.g.FHIRUser)
		if err != nil {
			a.mu.Unlock()
			return nil, false, err
		}
		a.care = &c
	}
	care := a.care
	a.mu.Unlock()
	if care.All {
		return nil, false, nil
	}
	ids := care.IDs()
	if patient && ctx != "" && !care.Patients[ctx] {
		ids = append(ids, ctx)
	}
	return ids, true, nil
}

// Confined reports whether the interaction on typ is limited to some patients: by
// patient/ scopes, or by user/ scopes (unless the fhirUser coordinates and sees all,
// which only the store tells: a user/ grant counts as confined here).
func (a *grantAccess) Confined(interaction, typ string) bool {
	if a.Patient(interaction, typ) != "" {
		return true
	}
	in, ok := restInteractions[interaction]
	if !ok {
		return a.g.PatientContext() != ""
	}
	user := false
	for s := range a.g.allowing(in, typ) {
		switch s.Context {
		case ContextSystem:
			return false
		case ContextUser:
			user = true
		}
	}
	return user
}

// Owner names the requester for owned resources: client, patient in context and user.
func (a *grantAccess) Owner() string {
	return a.g.ClientID + "|" + a.g.PatientContext() + "|" + a.g.FHIRUser
}

// SystemLevel reports whether a system/ scope grants the interaction on typ.
func (a *grantAccess) SystemLevel(interaction, typ string) bool {
	in, ok := restInteractions[interaction]
	if !ok {
		return false
	}
	for s := range a.g.allowing(in, typ) {
		if s.Context == ContextSystem {
			return true
		}
	}
	return false
}

func (a *grantAccess) Allows(interaction, typ string) bool {
	in, ok := restInteractions[interaction]
	return ok && a.g.Allows(in, typ)
}

// Patient is the one patient the interaction on typ is confined to: the patient in
// context of patient/ scopes, or the Patient a user/ scope's fhirUser names (a
// patient logged in as a user sees only itself). A Practitioner's user/ scopes
// confine to several patients: see Patients.
func (a *grantAccess) Patient(interaction, typ string) string {
	in, ok := restInteractions[interaction]
	if !ok || (a.g.PatientContext() != "" && a.g.PatientScoped(in, typ)) {
		return a.g.PatientContext()
	}
	if p, isPatient := strings.CutPrefix(a.g.FHIRUser, "Patient/"); isPatient && p != "" && !a.SystemLevel(interaction, typ) {
		for s := range a.g.allowing(in, typ) {
			if s.Context == ContextUser {
				return p
			}
		}
	}
	return ""
}

// CompartmentParams are the patient compartment's parameters of typ; for the types
// only system scopes see (systemOnlyTypes) an empty list: nothing links them to a
// patient, so a confined client sees none.
func (a *grantAccess) CompartmentParams(typ string) []string {
	if systemOnlyTypes[typ] != "" {
		return []string{}
	}
	return CompartmentParams(typ)
}

func (a *grantAccess) Constraints(interaction, typ string) []url.Values {
	in, ok := restInteractions[interaction]
	if !ok {
		return nil
	}
	return a.g.ConstraintsFor(in, typ)
}
