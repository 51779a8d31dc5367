package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"github.com/aitgw/aitgw/mapping"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/notify"
)

// opsConfig is how the gateway is watched and reached: logs, metrics, tracing, TLS.
type opsConfig struct {
	LogFormat, LogLevel string
	// MetricsAddr serves Prometheus /metrics on its own listener ("" : off).
	MetricsAddr string
	// OTLPEndpoint, when set, exports traces over OTLP/HTTP.
	OTLPEndpoint string
	// TLSCert and TLSKey serve HTTPS directly (without a reverse proxy).
	TLSCert, TLSKey string
}

func (o *opsConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.LogFormat, "log-format", env("AITGW_LOG_FORMAT", "text"), "log format: text or json (AITGW_LOG_FORMAT)")
	fs.StringVar(&o.LogLevel, "log-level", env("AITGW_LOG_LEVEL", "info"), "log level: debug, info, warn or error (AITGW_LOG_LEVEL)")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", env("AITGW_METRICS_ADDR", ""), "listen address of Prometheus /metrics, e.g. 127.0.0.1:9090 (AITGW_METRICS_ADDR); default off")
	fs.StringVar(&o.OTLPEndpoint, "otlp-endpoint", env("AITGW_OTLP_ENDPOINT", ""), "OTLP/HTTP traces endpoint, e.g. http://collector:4318 (AITGW_OTLP_ENDPOINT); default off")
	fs.StringVar(&o.TLSCert, "tls-cert", env("AITGW_TLS_CERT", ""), "TLS certificate (PEM) to serve HTTPS directly (AITGW_TLS_CERT)")
	fs.StringVar(&o.TLSKey, "tls-key", env("AITGW_TLS_KEY", ""), "TLS private key (PEM) for --tls-cert (AITGW_TLS_KEY)")
}

// logger makes the process logger the flags ask for.
func (o *opsConfig) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", o.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(o.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", o.LogFormat)
}

// wireObservability gives the server its request metrics, tracing and readiness
// checks, and counts the commits and validations of svcStore and the validator.
func wireObservability(gw *gateway, srv *server.Server, version string) {
	m := gw.metrics
	srv.AddReadinessCheck("store", func(ctx context.Context) error {
		return gw.store.View(ctx, func(tx fhir.Tx) error { _, err := tx.Count("Patient"); return err })
	})
	srv.AddReadinessCheck("notification-worker", func(context.Context) error {
		if gw.workersRunning.Load() == 0 {
			return fmt.Errorf("the notification worker is not running")
		}
		return nil
	})
	outbox := func() notify.Stats {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st, _ := notify.OutboxStats(ctx, gw.store, time.Now())
		return st
	}
	m.Gauge("aitgw_outbox_pending", "Notification deliveries waiting in the outbox.", func() float64 { return float64(outbox().Pending) })
	m.Gauge("aitgw_outbox_oldest_pending_seconds", "Age of the oldest delivery waiting in the outbox.", func() float64 { return outbox().OldestPending.Seconds() })
	m.Gauge("aitgw_outbox_dead_letters", "Notification deliveries dead-lettered and not replayed.", func() float64 { return float64(outbox().DeadLetters) })
	if gw.audit != nil {
		m.Gauge("aitgw_audit_backlog", "Audit events accepted and not yet committed.", func() float64 { return float64(gw.audit.Backlog()) })
	}
	m.Gauge("aitgw_pathway_overdue_steps", "Pathway steps past their deadline (000 §VI, §VII), over every pathway CarePlan; recounted at most once a minute.", overdueSteps(gw.store))
	m.BuildInfo(version, runtime.Version())
}

// http1Only serves HTTP/1.1 alone, also over TLS: Go 1.26.8's HTTP/2 server has
// known flaws (GO-2026-6603, -6611, -6612, -6617, fixed in 1.26.9), and FHIR clients
// need nothing HTTP/2 gives. A reverse proxy in front may still speak HTTP/2.
func http1Only(srv *http.Server) {
	var p http.Protocols
	p.SetHTTP1(true)
	srv.Protocols = &p
}

// overdueSteps counts the pathway activities the gateway flagged overdue, reading
// the pathway CarePlans at most once a minute whatever the scrape rate.
func overdueSteps(store fhir.Store) func() float64 {
	var mu sync.Mutex
	var last time.Time
	var n float64
	marker := []byte(`"url":"` + mapping.ExtOverdue + `","valueBoolean":true`)
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < time.Minute {
			return n
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		count := 0
		err := store.View(ctx, func(tx fhir.Tx) error {
			return tx.ScanType("CarePlan", func(r *fhir.Record) bool {
				count += bytes.Count(r.Body, marker)
				return ctx.Err() == nil
			})
		})
		if err == nil && ctx.Err() == nil {
			n, last = float64(count), time.Now()
		}
		return n
	}
}
