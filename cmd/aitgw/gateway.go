package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/conformance"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/appendonly"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/redis"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/search"
	"github.com/aitgw/aitgw/profiles"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/backup"
	"github.com/aitgw/aitgw/server/notify"
	"github.com/aitgw/aitgw/server/observe"
	"github.com/aitgw/aitgw/server/smart"
)

// version is the gateway's software version, set at build time with -ldflags.
var version = "0.1.0-dev"

// gateway is a wired gateway: store, search engine, interactions and HTTP server.
type gateway struct {
	store fhir.Store
	// auditStore keeps the audit trail: the embedded append-only store beside the
	// main one (routed to by store), or the shared Redis store itself.
	auditStore fhir.Store
	handler    http.Handler
	audit      *smart.AuditLog
	// background are the gateway's workers (notification delivery), run by serve.
	background []func(ctx context.Context)
	// metrics are served on --metrics-addr; workersRunning counts the background
	// workers that run, for /readyz.
	metrics        *observe.Metrics
	workersRunning atomic.Int32
	// files are the embedded store files, for a backup while serving (none on Redis).
	files []backup.Source
}

// openGateway wires a gateway on the data directory of cfg. The rooms are wired in
// the order data flows: store and search, interactions, the AIT guide, security.
func openGateway(cfg *config, logger *slog.Logger) (*gateway, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	store, auditStore, files, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	gw := &gateway{store: store, auditStore: auditStore, files: files}
	if err := gw.wire(cfg, logger); err != nil {
		gw.Close()
		return nil, err
	}
	return gw, nil
}

func (gw *gateway) wire(cfg *config, logger *slog.Logger) error {
	reg, err := search.NewRegistry()
	if err != nil {
		return err
	}
	reg.SetBase(cfg.base())
	// one AuditEvent per access: index what an auditor searches by, not all 20
	// official parameters (see search.Registry.Restrict)
	reg.Restrict("AuditEvent", smart.AuditSearchParams...)
	gw.metrics = observe.NewMetrics()
	svc := &rest.Service{Store: observe.WrapStore(gw.store, gw.metrics), Engine: search.NewEngine(reg), BaseURL: cfg.base(), PageSize: 20, MaxPageSize: cfg.Limits.maxCount, Limits: cfg.Limits.rest}
	if n, err := rest.DropFrozenSearches(context.Background(), gw.store); err != nil {
		return fmt.Errorf("drop stored search result sets: %w", err)
	} else if n > 0 {
		logger.Info("dropped stored search result sets: paging no longer stores them", "count", n)
	}
	srv := server.New(server.Config{BaseURL: cfg.base(), MaxBody: cfg.MaxBody, Logger: logger,
		Instance: cfg.instance, Observers: []server.RequestObserver{gw.metrics}}, svc)
	if cfg.ops.OTLPEndpoint != "" {
		srv.Engine().Use(observe.TraceHTTP(server.Interaction))
	}

	pkg, v, err := wireProfiles(srv, svc, reg, cfg.packages)
	if err != nil {
		return err
	}
	svc.Validate = observe.WrapValidator(svc.Validate, gw.metrics)
	citeSources()
	if err := useSiteRules(cfg.RulesFile); err != nil {
		return err
	}
	wireRules(srv)
	gw.background = append(gw.background, wirePathway(srv, svc, gw.auditStore, logger))
	worker, err := wireNotify(cfg, srv, svc, logger)
	if err != nil {
		return err
	}
	gw.background = append(gw.background, func(ctx context.Context) {
		if err := worker.Run(ctx); err != nil && ctx.Err() == nil {
			logger.Error("notification worker stopped", "error", err.Error())
		}
	})
	var security []byte
	if gw.audit, security, err = wireSmart(cfg, srv, gw.store, gw.auditStore, v, logger); err != nil {
		return err
	}
	wireObservability(gw, srv, version)
	wireBackup(gw, srv.Engine())
	hub, err := wireHub(cfg, srv, svc, logger)
	if err != nil {
		return err
	}
	gw.background = append(gw.background, hub)
	srv.SetCapabilities(server.Capabilities{
		Software: "AIT Gateway", Version: version,
		SearchParams: func(typ string) []conformance.SearchParam {
			var out []conformance.SearchParam
			for _, p := range reg.Params(typ) {
				out = append(out, conformance.SearchParam{Name: p.Code, Type: p.Type, Definition: p.URL})
			}
			return out
		},
		Profiles:           supportedProfiles(pkg),
		Security:           security,
		ResourceExtensions: map[string]json.RawMessage{"Subscription": notify.CapabilityExtensions()},
		RecordedOnly:       map[string]bool{"AuditEvent": true},
	})
	gw.handler = srv.Handler()
	if gw.handler, err = wireWeb(cfg, gw.store, gw.handler); err != nil {
		return err
	}
	return seedPackage(context.Background(), svc, pkg)
}

// wireProfiles applies the AIT guide: validation on write, $validate, the guide's
// search parameters, its conformance resources served read-only, and the package
// download at /ig/package.tgz.
func wireProfiles(srv *server.Server, svc *rest.Service, reg *search.Registry, packages []string) (*profiles.Package, *profiles.Validator, error) {
	pkg, err := profiles.Load()
	if err != nil {
		return nil, nil, err
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		return nil, nil, err
	}
	logBaseInvariants(slog.Default())
	if len(packages) > 0 {
		if v, err = withPackages(v, packages, func(f string, a ...any) { slog.Warn(fmt.Sprintf(f, a...)) }); err != nil {
			return nil, nil, err
		}
	}
	conformance.ImplementationGuides = []string{pkg.ImplementationGuideURL()}
	for _, sp := range pkg.SearchParameters() {
		if err := reg.Add(sp); err != nil {
			return nil, nil, fmt.Errorf("AIT search parameter: %w", err)
		}
	}
	val := &aitValidation{v: v, store: svc.Store}
	svc.Validate = val
	srv.Operations().Add(validateOperation(svc, v, val))
	srv.Use(readOnlyPackage(pkg))
	tgz, err := pkg.Tarball()
	if err != nil {
		return nil, nil, err
	}
	srv.Engine().GET("/ig/package.tgz", func(c *gin.Context) {
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.tgz"`, pkg.Name, pkg.Version))
		c.Data(http.StatusOK, "application/gzip", tgz)
	})
	return pkg, v, nil
}

// supportedProfiles lists the guide's resource profiles by type.
func supportedProfiles(pkg *profiles.Package) map[string][]string {
	out := map[string][]string{}
	for _, r := range pkg.Resources() {
		if r.Type != "StructureDefinition" || r.Example {
			continue
		}
		var sd struct{ Kind, Type, URL string }
		if json.Unmarshal(r.Body, &sd) == nil && sd.Kind == "resource" {
			out[sd.Type] = append(out[sd.Type], sd.URL)
		}
	}
	return out
}

// Close flushes the audit trail and releases the store.
func (gw *gateway) Close() error {
	if gw.audit != nil {
		gw.audit.Close()
	}
	return gw.store.Close()
}

// openStore opens the embedded stores under --data, or the Redis store when --redis
// names one (several gateways then share it, the audit trail included). Embedded, the
// audit trail has its own append-only store (audit.db), written without taking the
// main store's write lock, and the returned store routes AuditEvent to it.
func openStore(cfg *config) (store, audit fhir.Store, files []backup.Source, err error) {
	if cfg.RedisURL != "" {
		rs, err := redis.Open(context.Background(), cfg.RedisURL, redis.WithPrefix(cfg.RedisPrefix))
		return rs, rs, nil, err
	}
	main, err := bolt.Open(filepath.Join(cfg.Data, mainStoreFile), cfg.storeOptions...)
	if err != nil {
		return nil, nil, nil, err
	}
	trail, err := appendonly.Open(filepath.Join(cfg.Data, auditStoreFile), "AuditEvent")
	if err != nil {
		main.Close()
		return nil, nil, nil, err
	}
	if _, err := moveAuditTrail(context.Background(), main, trail); err != nil {
		main.Close()
		trail.Close()
		return nil, nil, nil, err
	}
	return fhir.Split(main, trail, "AuditEvent"), trail, storeFiles(main, trail), nil
}
