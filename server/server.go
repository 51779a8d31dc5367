// Package server is the HTTP face of the gateway: gin routing, content negotiation,
// errors as OperationOutcomes, and one small handler per FHIR interaction. It holds no
// FHIR semantics of its own: those are in fhir/rest.
package server

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	// BaseURL is the public FHIR base, e.g. https://gw.example.org/fhir.
	BaseURL string
	// MaxBody bounds request bodies (413 beyond); 0 means 16 MiB.
	MaxBody int64
	// Logger receives one line per request: method, interaction, status, duration —
	// never a path, query or body, which may carry patient data.
	Logger *slog.Logger
	// Instance identifies this run of the gateway, answered on /healthz so that the
	// operator commands can tell which gateway they reach.
	Instance string
	// Observers are told of every answered request (metrics, tracing).
	Observers []RequestObserver
}

// Server routes FHIR requests to the interactions.
type Server struct {
	cfg     Config
	svc     *rest.Service
	engine  *gin.Engine
	ops     *Operations
	handler map[string]gin.HandlerFunc
	// Guard, when set, runs before every interaction (authorization: server/smart).
	guards []gin.HandlerFunc
	// extra are non-FHIR endpoints under the base (".well-known/smart-configuration").
	extra   map[string]gin.HandlerFunc
	caps    Capabilities
	capJSON []byte
	capMu   sync.Mutex
	health  health
	// bundleHandlers may take over a Bundle posted to the base (HandleBundles).
	bundleHandlers []BundleHandler
}

// New builds the server on svc.
func New(cfg Config, svc *rest.Service) *Server {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 16 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, svc: svc, engine: gin.New(), ops: NewOperations()}
	s.handler = map[string]gin.HandlerFunc{
		"read":               s.read,
		"vread":              s.vread,
		"create":             s.create,
		"update":             s.update,
		"conditional-update": s.update,
		"patch":              s.patch,
		"conditional-patch":  s.patch,
		"delete":             s.delete,
		"conditional-delete": s.delete,
		"search-type":        s.search,
		"search-system":      s.searchSystem,
		"history-instance":   s.history,
		"history-type":       s.history,
		"history-system":     s.history,
		"batch":              s.bundle,
		"capabilities":       s.metadata,
		"operation":          s.operation,
		"page":               s.page,
	}
	s.engine.Use(requestID, s.recoverer, s.logRequests, s.hardenHeaders)
	s.registerHealth()
	return s
}

// Engine returns the gin engine, for mounting further routes (auth server, web view).
func (s *Server) Engine() *gin.Engine { return s.engine }

// Operations returns the operation registry, to which other packages add theirs.
func (s *Server) Operations() *Operations { return s.ops }

// Use adds a guard run after routing and before each interaction handler; the
// interaction's name is in the context under "fhir.op".
func (s *Server) Use(g gin.HandlerFunc) { s.guards = append(s.guards, g) }

// Mount serves h for GET on a path below the FHIR base that is not a FHIR
// interaction, such as ".well-known/smart-configuration".
func (s *Server) Mount(path string, h gin.HandlerFunc) {
	if s.extra == nil {
		s.extra = map[string]gin.HandlerFunc{}
	}
	s.extra[strings.Trim(path, "/")] = h
}

// serveExtra answers the mounted endpoints before FHIR routing.
func (s *Server) serveExtra(c *gin.Context) {
	p := strings.Trim(strings.TrimPrefix(c.Request.URL.Path, "/fhir"), "/")
	if h, ok := s.extra[p]; ok && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) {
		h(c)
		c.Abort()
	}
}

// Handler finalises the routes and returns the http.Handler.
func (s *Server) Handler() http.Handler {
	chain := append([]gin.HandlerFunc{s.bound, s.serveExtra, s.negotiate, s.route}, s.guards...)
	chain = append(chain, s.dispatch)
	s.engine.Any("/fhir", chain...)
	s.engine.Any("/fhir/*path", chain...)
	s.engine.NoRoute(func(c *gin.Context) {
		s.fail(c, fhir.Errorf(http.StatusNotFound, "not-found", "", "no such endpoint; the FHIR base is /fhir"))
	})
	return s.engine
}

// Interactions lists the interaction names the server routes, for the
// CapabilityStatement.
func (s *Server) Interactions() []string {
	out := make([]string, 0, len(s.handler))
	for k := range s.handler {
		out = append(out, k)
	}
	return out
}

func (s *Server) dispatch(c *gin.Context) {
	req := currentRequest(c)
	h, ok := s.handler[req.Op]
	if !ok {
		s.fail(c, fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", "", "%s is not supported here", c.Request.Method))
		return
	}
	h(c)
}

// recoverer turns a panic into a 500 OperationOutcome; a panic is a bug, but the
// client still gets FHIR, and the process lives on.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Logger.Error("panic in handler", "request_id", RequestID(c), "op", c.GetString(ctxOp), "panic", r)
			s.fail(c, fhir.Errorf(http.StatusInternalServerError, "exception", "", "internal error"))
			c.Abort()
		}
	}()
	c.Next()
}

func (s *Server) logRequests(c *gin.Context) {
	start, ctx := time.Now(), c.Request.Context() // the context before bound's deadline, cancelled once answered
	c.Next()
	d := time.Since(start)
	// typed attributes: no value boxed per request (LogAttrs rather than key-value pairs)
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", RequestID(c)),
		slog.String("method", c.Request.Method), slog.String("op", c.GetString(ctxOp)), slog.String("type", c.GetString(ctxType)),
		slog.Int("status", c.Writer.Status()), slog.Int64("ms", d.Milliseconds()))
	for _, o := range s.cfg.Observers {
		o.ObserveRequest(c.Request.Method, c.GetString(ctxOp), c.GetString(ctxType), c.Writer.Status(), d)
	}
}

// base is the configured FHIR base without its trailing slash.
func (s *Server) base() string { return strings.TrimRight(s.cfg.BaseURL, "/") }
