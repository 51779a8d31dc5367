// Package observe makes the gateway watchable: Prometheus metrics on their own listen
// address, and OpenTelemetry tracing when an OTLP endpoint is set. Labels and span
// attributes are interactions, resource types, statuses and durations: never an id,
// a path, a query or a body, which may carry patient data.
package observe

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the gateway's Prometheus registry and its instruments.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	commits    *prometheus.HistogramVec
	validation *prometheus.HistogramVec
}

// NewMetrics makes the registry with the Go runtime and process collectors and the
// gateway's own instruments.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aitgw_http_requests_total",
			Help: "HTTP requests answered, by FHIR interaction, resource type and status code.",
		}, []string{"interaction", "type", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aitgw_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by FHIR interaction and resource type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"interaction", "type"}),
		commits: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aitgw_store_commit_duration_seconds",
			Help:    "Time of a store write transaction, from the call to the durable commit (group commit included), by outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"outcome"}),
		validation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aitgw_validation_duration_seconds",
			Help:    "Time to validate a resource or a transaction Bundle before it is stored, by kind and verdict.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
		}, []string{"kind", "verdict"}),
	}
	reg.MustRegister(m.requests, m.latency, m.commits, m.validation)
	return m
}

// ObserveRequest counts one answered request (server.RequestObserver). A resource
// type that R4 does not define is counted as "other", so that a client cannot grow
// the label set.
func (m *Metrics) ObserveRequest(_ string, interaction, typ string, status int, d time.Duration) {
	typ = safeType(typ)
	if interaction == "" {
		interaction = "other"
	}
	m.requests.WithLabelValues(interaction, typ, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(interaction, typ).Observe(d.Seconds())
}

// Gauge registers a gauge whose value is read from fn at each scrape.
func (m *Metrics) Gauge(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Serve serves /metrics on addr until ctx ends: a separate listener, so that the
// metrics are not exposed where the FHIR API is.
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}

// BuildInfo publishes the running version as aitgw_build_info{version="…"} 1.
func (m *Metrics) BuildInfo(version, goVersion string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "aitgw_build_info", Help: "Always 1; labels name the running build."}, []string{"version", "go_version"})
	g.WithLabelValues(version, goVersion).Set(1)
	m.reg.MustRegister(g)
}
