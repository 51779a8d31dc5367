package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/notify"
)

// wireNotify sets up milestone notifications: the Subscription check on write, the
// delivery worker (woken after every commit), $status and $events on Subscription,
// and the operator's dead-letter operations.
func wireNotify(cfg *config, srv *server.Server, svc *rest.Service, logger *slog.Logger) *notify.Worker {
	egress := &notify.Egress{Allow: cfg.NotifyAllow}
	w := &notify.Worker{
		Store: svc.Store, Base: cfg.base() + "/", Logger: logger, Horizon: cfg.NotifyHorizon, HTTP: egress.Client(),
		Write: notify.UpdaterFunc(func(ctx context.Context, fn func(notify.Writer) error) error {
			return svc.Write(ctx, func(wr *rest.Writer) error { return fn(wr) })
		}),
	}
	if cfg.SMTPRelay != "" {
		w.Mailer = &notify.SMTP{Relay: cfg.SMTPRelay, From: cfg.SMTPFrom, Username: cfg.SMTPUser, Password: cfg.SMTPPassword}
	}
	svc.Hooks = append(svc.Hooks, notify.SubscriptionHook{}, notify.EgressHook{Egress: egress}, notify.SubscriptionConfinement{})
	svc.AfterCommit = w.Wake
	ops := srv.Operations()
	ops.Add(&server.Operation{
		Name: "status", Types: []string{"Subscription"}, Instance: true,
		Definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status",
		Run: func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
			if err := unconfined(req, "Subscription"); err != nil {
				return nil, err
			}
			if _, err := svc.Read(ctx, &rest.Request{Type: "Subscription", ID: req.ID, Access: req.Access}); err != nil {
				return nil, err
			}
			return viewBody(ctx, svc, func(tx fhir.Tx) ([]byte, error) { return notify.StatusOperation(tx, cfg.base()+"/", req.ID) })
		},
	})
	ops.Add(&server.Operation{
		Name: "events", Types: []string{"Subscription"}, Instance: true,
		Definition: "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events",
		Run: func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
			if err := unconfined(req, "Subscription"); err != nil {
				return nil, err
			}
			if _, err := svc.Read(ctx, &rest.Request{Type: "Subscription", ID: req.ID, Access: req.Access}); err != nil {
				return nil, err
			}
			since, _ := strconv.ParseInt(req.Query.Get("eventsSinceNumber"), 10, 64)
			until, _ := strconv.ParseInt(req.Query.Get("eventsUntilNumber"), 10, 64)
			return viewBody(ctx, svc, func(tx fhir.Tx) ([]byte, error) {
				return notify.EventsOperation(tx, cfg.base()+"/", req.ID, since, until, req.Query.Get("content"))
			})
		},
	})
	ops.Add(&server.Operation{
		Name: "ait-dead-letters", System: true, Definition: operationBase + "ait-dead-letters",
		Run: func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
			if req.Access != nil && !req.Access.Allows("search-type", "Communication") {
				return nil, fhir.Errorf(http.StatusForbidden, "security", "", "listing dead letters needs Communication search rights")
			}
			if err := unconfined(req, "Communication"); err != nil {
				return nil, err
			}
			dl, err := w.DeadLetters(ctx)
			if err != nil {
				return nil, err
			}
			return parametersResponse("deadLetter", dl), nil
		},
	})
	ops.Add(&server.Operation{
		Name: "ait-replay", System: true, Write: true, Definition: operationBase + "ait-replay",
		Run: func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
			if req.Access != nil && !req.Access.Allows("update", "Communication") {
				return nil, fhir.Errorf(http.StatusForbidden, "security", "", "replaying dead letters needs Communication update rights")
			}
			if err := unconfined(req, "Communication"); err != nil {
				return nil, err
			}
			var seqs []int64
			for _, v := range req.Query["seq"] {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fhir.Errorf(http.StatusBadRequest, "value", "seq", "seq must be a dead letter's number")
				}
				seqs = append(seqs, n)
			}
			n, err := w.Replay(ctx, seqs...)
			if err != nil {
				return nil, err
			}
			return parametersResponse("replayed", n), nil
		},
	})
	return w
}

// viewBody answers an operation computed on a read snapshot.
func viewBody(ctx context.Context, svc *rest.Service, fn func(tx fhir.Tx) ([]byte, error)) (*rest.Response, error) {
	var body []byte
	err := svc.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		body, err = fn(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &rest.Response{Status: http.StatusOK, Body: body}, nil
}

// parametersResponse answers a Parameters with one valueString parameter holding v
// as JSON (dead letters) or a number (replayed).
func parametersResponse(name string, v any) *rest.Response {
	raw, _ := json.Marshal(v)
	p := map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": name, "valueString": string(raw)},
	}}
	body, _ := json.Marshal(p)
	return &rest.Response{Status: http.StatusOK, Body: body}
}

// unconfined refuses an operation whose answer spans patients (a subscription's event
// log, the dead letters) to a client confined to one patient's compartment.
func unconfined(req *rest.Request, typ string) error {
	if rest.IsConfined(req.Access, "operation", typ) {
		return fhir.Errorf(http.StatusForbidden, "security", "", "this operation spans patients: a token confined to patients (patient/ or user/ scopes) cannot use it")
	}
	return nil
}
