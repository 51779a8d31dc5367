package summary

import (
	"context"
	"net/http"
	"slices"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Operation answers Patient/{id}/$summary: the patient's IPS document, built on demand
// from one store snapshot. A patient-context token reaches its own patient only; the
// types the token may not read are left out (their sections say "withheld").
func Operation(svc *rest.Service) func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
	return func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
		if req.Access != nil {
			if p := req.Access.Patient("operation", "Patient"); p != "" && p != req.ID {
				return nil, fhir.Errorf(http.StatusForbidden, "security", "Patient.id", "a patient-context token reaches only its own patient's summary")
			}
		}
		for k := range req.Query {
			if k != "_format" && k != "_pretty" {
				return nil, fhir.Errorf(http.StatusBadRequest, "not-supported", k, "$summary takes no parameter %q", k)
			}
		}
		in := Input{Patient: req.ID, Base: svc.BaseURL, Now: now(svc)}
		if a := req.Access; a != nil {
			in.Allowed = func(typ string) bool { return a.Allows("read", typ) || a.Allows("search-type", typ) }
		}
		var body []byte
		err := svc.Store.View(ctx, func(tx fhir.Tx) error {
			// a user/ token reaches the patients its fhirUser may see (its care), as
			// a read of the Patient would: the summary holds the whole record
			if patients, confined, err := rest.ConfinedPatients(tx, req.Access, "read", "Patient"); err != nil {
				return err
			} else if confined && !slices.Contains(patients, req.ID) {
				return fhir.Errorf(http.StatusForbidden, "security", "Patient.id", "Patient/%s is outside what the access token may reach", req.ID)
			}
			snap := Snapshot{Tx: tx, Match: svc.Engine.Match}
			if req.Access != nil {
				// each resource as a read would allow it: SMART v2 constraints
				// (patient/Condition.rs?clinical-status=active) included
				sees := svc.Sees(tx, req.Access)
				snap.Sees = func(typ, id string) (bool, error) {
					if typ == "Patient" && id == req.ID {
						return true, nil // the subject, checked above
					}
					return sees(typ, id)
				}
			}
			var err error
			body, err = Build(snap, in)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &rest.Response{Status: http.StatusOK, Body: body}, nil
	}
}
