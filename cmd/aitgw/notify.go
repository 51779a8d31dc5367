package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/notify"
)

// wireNotify sets up milestone notifications: the Subscription check on write, the
// delivery worker (woken after every commit), $status and $events on Subscription,
// and the operator's dead-letter operations.
func wireNotify(cfg *config, srv *server.Server, svc *rest.Service, logger *slog.Logger) (*notify.Worker, error) {
	egress := &notify.Egress{Allow: cfg.NotifyAllow}
	w := &notify.Worker{
		Store: svc.Store, Base: cfg.base() + "/", Logger: logger, Horizon: cfg.NotifyHorizon, HTTP: egress.Client(),
		Lease: cfg.Notify.Lease, Instance: cfg.Notify.Instance,
		Write: notify.UpdaterFunc(func(ctx context.Context, fn func(notify.Writer) error) error {
			return svc.Write(ctx, func(wr *rest.Writer) error { return fn(wr) })
		}),
	}
	if cfg.RedisURL == "" {
		w.Lease = 0 // the embedded store has one process: nothing to claim from another
	}
	if cfg.SMTPRelay != "" {
		tlsConfig, err := cfg.Notify.tls()
		if err != nil {
			return nil, err
		}
		w.Mailer = &notify.SMTP{Relay: cfg.SMTPRelay, From: cfg.SMTPFrom, Username: cfg.SMTPUser, Password: cfg.SMTPPassword, TLS: tlsConfig}
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
	return w, nil
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

// notifyUndelivered lists the notifications that could not be sent (no channel for
// the recipient, or the channel refused them): the DetectedIssues the notifier
// raises for the coordinator, each naming its Communication and the reason.
func notifyUndelivered(cfg *config) int {
	q := url.Values{"code": {notify.IssueSystem + "|" + notify.IssueUndelivered}}
	st, out, err := operatorCall(cfg, "system/DetectedIssue.rs", http.MethodGet, cfg.base()+"/DetectedIssue?"+q.Encode(), nil)
	return report(st, out, err, http.StatusOK)
}

// notifyConfig are the settings of the letters' delivery: the client certificate
// French secure messaging (MSSanté) requires of the SMTP relay's clients, and the
// lease by which one of several gateways sending from one store claims a delivery.
type notifyConfig struct {
	SMTPCert, SMTPKey, SMTPCA string
	Lease                     time.Duration
	Instance                  string
}

func (c *notifyConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.SMTPCert, "smtp-cert", env("AITGW_SMTP_CERT", ""), "PEM client certificate presented to the SMTP relay after STARTTLS (MSSanté; AITGW_SMTP_CERT)")
	fs.StringVar(&c.SMTPKey, "smtp-key", env("AITGW_SMTP_KEY", ""), "PEM private key of --smtp-cert (AITGW_SMTP_KEY)")
	fs.StringVar(&c.SMTPCA, "smtp-ca", env("AITGW_SMTP_CA", ""), "PEM certificate authorities the relay's certificate is checked against (AITGW_SMTP_CA); default: the system's")
	fs.DurationVar(&c.Lease, "notify-lease", notify.DefaultLease, "how long a gateway holds a delivery it sends; another takes it over after (several gateways on one store)")
	fs.StringVar(&c.Instance, "instance", env("AITGW_INSTANCE", ""), "name of this gateway among those sharing the store (AITGW_INSTANCE); default: random")
}

// tls is the TLS configuration of STARTTLS with the relay: the client certificate
// and the authorities, when given.
func (c *notifyConfig) tls() (*tls.Config, error) {
	if (c.SMTPCert == "") != (c.SMTPKey == "") {
		return nil, fmt.Errorf("--smtp-cert and --smtp-key go together")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.SMTPCert != "" {
		pair, err := tls.LoadX509KeyPair(c.SMTPCert, c.SMTPKey)
		if err != nil {
			return nil, fmt.Errorf("SMTP client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if c.SMTPCA != "" {
		pem, err := os.ReadFile(c.SMTPCA)
		if err != nil {
			return nil, fmt.Errorf("--smtp-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--smtp-ca %s holds no PEM certificate", c.SMTPCA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
