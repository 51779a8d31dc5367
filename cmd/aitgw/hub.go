package main

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping/pathway"
	"github.com/aitgw/aitgw/mapping/summary"
	"github.com/aitgw/aitgw/server"
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
			confineBinary(c, svc, req, g.PatientContext())
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
	engine.Use(rawBinary(svc, basePath(cfg.base())))
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

// confineBinary keeps a patient-context token to the Binaries of its own patient
// (their securityContext): Binary is outside the R4 patient compartment, and the
// stored summary documents are Binaries.
func confineBinary(c *gin.Context, svc *rest.Service, req *rest.Request, patient string) {
	deny := func(msg string) {
		smart.WriteError(c, fhir.Errorf(http.StatusForbidden, "security", "Binary.securityContext", "%s", msg))
	}
	switch req.Op {
	case "read", "vread", "history-instance":
		ok := false
		err := svc.Store.View(c.Request.Context(), func(tx fhir.Tx) error {
			var err error
			ok, err = summary.BinaryOfPatient(tx, req.ID, patient)
			return err
		})
		if err != nil || !ok {
			deny("a patient-context token reads only the Binaries whose securityContext is its patient")
		}
	default:
		deny("a patient-context token reaches Binaries through its DocumentReferences, by id")
	}
}

// rawBinary serves GET [base]/Binary/{id} asked with the Binary's own content type in
// Accept (application/pdf…) as the raw bytes with that Content-Type, as FHIR and IHE
// ITI-68 specify; FHIR JSON requests go on to the read interaction. It runs after the
// token middleware and applies the same checks: read scope on Binary and, for a
// patient-context token, the Binary's securityContext.
func rawBinary(svc *rest.Service, base string) gin.HandlerFunc {
	prefix := base + "/Binary/"
	return func(c *gin.Context) {
		r := c.Request
		id, ok := strings.CutPrefix(r.URL.Path, prefix)
		accept := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Accept"), ";")[0]))
		if !ok || r.Method != http.MethodGet || strings.Contains(id, "/") || accept == "" || strings.Contains(accept, "json") ||
			strings.Contains(accept, "*") || r.URL.Query().Get("_format") != "" {
			return
		}
		g := smart.GrantFrom(c)
		if g == nil || !g.Allows(smart.InteractionRead, "Binary") {
			smart.WriteError(c, fhir.Errorf(http.StatusForbidden, "security", "", "the access token does not allow reading Binary"))
			return
		}
		var bin struct {
			ContentType string `json:"contentType"`
			Data        []byte `json:"data"`
		}
		found, allowed := false, g.PatientContext() == ""
		err := svc.Store.View(r.Context(), func(tx fhir.Tx) error {
			rec, err := tx.Current("Binary", id)
			if err != nil || rec.Deleted {
				return nil
			}
			found = true
			if !allowed {
				if allowed, err = summary.BinaryOfPatient(tx, id, g.PatientContext()); err != nil {
					return err
				}
			}
			return json.Unmarshal(rec.Body, &bin)
		})
		switch {
		case err != nil:
			smart.WriteError(c, fhir.Errorf(http.StatusInternalServerError, "exception", "", "cannot read the Binary"))
		case !found:
			smart.WriteError(c, fhir.Errorf(http.StatusNotFound, "not-found", "Binary.id", "Binary/%s is not known", id))
		case !allowed:
			smart.WriteError(c, fhir.Errorf(http.StatusForbidden, "security", "Binary.securityContext", "a patient-context token reads only the Binaries whose securityContext is its patient"))
		case !strings.EqualFold(bin.ContentType, accept):
			return // not its content type: FHIR negotiation answers (406 for what is not JSON)
		default:
			c.Data(http.StatusOK, bin.ContentType, bin.Data)
			c.Abort()
		}
	}
}
