package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping/pathway"
	"github.com/aitgw/aitgw/mapping/summary"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/binary"
	"github.com/aitgw/aitgw/server/bulk"
	"github.com/aitgw/aitgw/server/smart"
)

// hubConfig holds the settings of what the regional hub pulls (issue 13).
type hubConfig struct {
	// ExportExpiry is how long a finished $export's files are kept.
	ExportExpiry time.Duration
	// ExportMaxJobs bounds the exports running at once.
	ExportMaxJobs int
}

// hubFlags declares the hub's settings.
func (c *config) hubFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.hub.ExportExpiry, "export-expiry", 24*time.Hour, "how long the files of a finished bulk $export are kept")
	fs.IntVar(&c.hub.ExportMaxJobs, "export-max-jobs", 2, "bulk exports running at once (429 beyond)")
}

// wireHub adds what the regional DMP / messaging hub uses: Patient/$everything and
// Bulk Data $export (status and files under /bulk). It must run after wireSmart: the
// /bulk routes take the token middleware registered there.
func wireHub(cfg *config, srv *server.Server, svc *rest.Service, logger *slog.Logger) (func(context.Context), error) {
	ops := srv.Operations()
	everything := func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
		return svc.Everything(ctx, req, smart.CompartmentParams)
	}
	ops.Add(&server.Operation{Name: "everything", Types: []string{"Patient"}, Instance: true, Type: true,
		Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything", Run: everything})

	ops.Add(&server.Operation{Name: "summary", Types: []string{"Patient"}, Instance: true,
		Definition: "http://hl7.org/fhir/uv/ips/OperationDefinition/summary", Run: summary.Operation(svc)})

	// document-based hubs (DMP): the current summary is stored at the milestones that
	// change it, by the pathway hook wired before this
	archiver := &summary.Archiver{Base: cfg.base()}
	for _, h := range svc.Hooks {
		if ph, ok := h.(*pathway.Hook); ok {
			ph.OnFact = archiver.OnFact
		}
	}

	origin := cfg.base()
	if u, err := url.Parse(cfg.base()); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	storeFile := "" // the embedded store's mmapped file, as /proc/self/maps names it
	if cfg.RedisURL == "" {
		if abs, err := filepath.Abs(filepath.Join(cfg.Data, "aitgw.db")); err == nil {
			if real, err := filepath.EvalSymlinks(abs); err == nil {
				storeFile = real
			}
		}
	}
	m, err := bulk.New(bulk.Config{
		StoreFile: storeFile,
		Dir:       filepath.Join(cfg.Data, "exports"), Store: svc.Store, Match: svc.Engine.Match,
		Compartment: smart.CompartmentParams, BaseURL: cfg.base(), FilesURL: origin + "/bulk",
		MaxJobs: cfg.hub.ExportMaxJobs, Expiry: cfg.hub.ExportExpiry, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	const exportDef = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
	ops.Add(&server.Operation{Name: "export", System: true, Definition: exportDef + "export", Serve: m.KickOff})
	ops.Add(&server.Operation{Name: "export", Types: []string{"Patient"}, Type: true, Definition: exportDef + "patient-export", Serve: m.KickOff})
	ops.Add(&server.Operation{Name: "export", Types: []string{"Group"}, Instance: true, Definition: exportDef + "group-export", Serve: m.KickOff})

	srv.Use(func(c *gin.Context) {
		g := smart.GrantFrom(c)
		if g == nil {
			return
		}
		c.Request = c.Request.WithContext(bulk.WithCaller(c.Request.Context(), caller(g)))
		req := server.RequestFrom(c)
		if req.Type == "Binary" && g.PatientContext() != "" {
			if err := binary.Confine(c.Request.Context(), svc.Store, req.Op, req.ID, g.PatientContext()); err != nil {
				smart.WriteError(c, err)
			}
			return
		}
		if req.Op != "operation" {
			return
		}
		if op := srv.OperationFrom(c); op != nil && op.Name == "everything" && req.ID == "" && !caller(g).System {
			smart.WriteError(c, fhir.Errorf(http.StatusForbidden, "security", "",
				"Patient/$everything without a patient id is for system (backend services) clients only"))
		}
	})
	// the status and file URLs live outside /fhir: a download's Accept
	// (application/fhir+ndjson) is not FHIR JSON content negotiation
	withCaller := func(c *gin.Context) *http.Request {
		if g := smart.GrantFrom(c); g != nil {
			return c.Request.WithContext(bulk.WithCaller(c.Request.Context(), caller(g)))
		}
		return c.Request
	}
	status := func(c *gin.Context) { m.Status(c.Writer, withCaller(c), c.Param("job")) }
	engine := srv.Engine()
	engine.Use(binary.RawContent(svc.Store, basePath(cfg.base())))
	engine.GET("/bulk/:job", status)
	engine.DELETE("/bulk/:job", status)
	engine.GET("/bulk/:job/:file", func(c *gin.Context) { m.File(c.Writer, withCaller(c), c.Param("job"), c.Param("file")) })
	return m.Run, nil
}

// caller tells the exporter who asks: a Backend Services grant has system/ read
// scopes and neither user nor patient in context.
func caller(g *smart.Grant) bulk.Caller {
	system := false
	for _, s := range g.Scopes {
		if s.Context == smart.ContextSystem && s.Perms&smart.PermRead != 0 {
			system = true
		}
	}
	return bulk.Caller{ClientID: g.ClientID, System: system && g.FHIRUser == "" && g.PatientContext() == ""}
}
