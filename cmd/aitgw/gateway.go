package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/aitgw/aitgw/conformance"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/search"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/smart"
)

// version is the gateway's software version, set at build time with -ldflags.
var version = "0.1.0-dev"

// gateway is a wired gateway: store, search engine, interactions and HTTP server.
type gateway struct {
	store   *bolt.Store
	handler http.Handler
	audit   *smart.AuditLog
}

// openGateway wires a gateway on the data directory of cfg.
func openGateway(cfg *config, logger *slog.Logger) (*gateway, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	store, err := bolt.Open(filepath.Join(cfg.Data, "aitgw.db"))
	if err != nil {
		return nil, err
	}
	reg, err := search.NewRegistry()
	if err != nil {
		store.Close()
		return nil, err
	}
	reg.SetBase(cfg.base())
	svc := &rest.Service{Store: store, Engine: &searcher{reg}, BaseURL: cfg.base(), PageSize: 20, MaxPageSize: 1000}
	srv := server.New(server.Config{BaseURL: cfg.base(), MaxBody: cfg.MaxBody, Logger: logger}, svc)
	audit, security, err := wireSmart(cfg, srv, svc, store, logger)
	if err != nil {
		store.Close()
		return nil, err
	}
	srv.SetCapabilities(server.Capabilities{
		Software: "AIT Gateway", Version: version,
		SearchParams: func(typ string) []conformance.SearchParam {
			var out []conformance.SearchParam
			for _, p := range reg.Params(typ) {
				out = append(out, conformance.SearchParam{Name: p.Code, Type: p.Type, Definition: p.URL})
			}
			return out
		},
		Security: security,
	})
	return &gateway{store: store, handler: srv.Handler(), audit: audit}, nil
}

// Close flushes the audit trail and releases the store.
func (g *gateway) Close() error {
	g.audit.Close()
	return g.store.Close()
}
