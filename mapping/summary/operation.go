package summary

import (
	"context"
	"net/http"

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
			var err error
			body, err = Build(Snapshot{Tx: tx, Match: svc.Engine.Match}, in)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &rest.Response{Status: http.StatusOK, Body: body}, nil
	}
}
