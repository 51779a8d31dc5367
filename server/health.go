package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// ReadinessCheck tells whether one part the gateway needs to serve is working: the
// store answers, the notification worker runs, the signing keys are loaded. It returns
// nil when the part is ready, and an error saying what is wrong otherwise; the error's
// text is shown to whoever asks, so it never carries patient data.
type ReadinessCheck func(ctx context.Context) error

// health answers the probes of an orchestrator or a load balancer: /healthz (the
// process is alive and serving HTTP) and /readyz (every readiness check passes). Both
// are open, carry no patient data, and are registered before authentication.
type health struct {
	mu     sync.RWMutex
	checks map[string]ReadinessCheck
}

// healthTimeout bounds one readiness probe, whatever a check does.
const healthTimeout = 2 * time.Second

// AddReadinessCheck adds a named check to /readyz.
func (s *Server) AddReadinessCheck(name string, check ReadinessCheck) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.checks == nil {
		s.health.checks = map[string]ReadinessCheck{}
	}
	s.health.checks[name] = check
}

// registerHealth mounts the probes on the engine before any authentication
// middleware is added, so that they stay open.
func (s *Server) registerHealth() {
	s.engine.GET("/healthz", func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"status": "pass", "instance": s.cfg.Instance})
	})
	s.engine.GET("/readyz", s.readyz)
}

// readyz runs every check in parallel under one deadline, and answers 200 with
// "pass" when all pass, 503 with each failing check's reason otherwise, in the shape
// of the IETF health-check draft (application/health+json).
func (s *Server) readyz(c *gin.Context) {
	s.health.mu.RLock()
	names := make([]string, 0, len(s.health.checks))
	for n := range s.health.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	checks := make([]ReadinessCheck, len(names))
	for i, n := range names {
		checks[i] = s.health.checks[n]
	}
	s.health.mu.RUnlock()

	ctx, cancel := context.WithTimeout(c.Request.Context(), healthTimeout)
	defer cancel()
	results := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, check := range checks {
		wg.Go(func() {
			done := make(chan error, 1)
			go func() { done <- check(ctx) }()
			select {
			case results[i] = <-done:
			case <-ctx.Done():
				results[i] = ctx.Err()
			}
		})
	}
	wg.Wait()

	status, code := "pass", http.StatusOK
	details := gin.H{}
	for i, n := range names {
		d := gin.H{"status": "pass"}
		if results[i] != nil {
			d = gin.H{"status": "fail", "output": results[i].Error()}
			status, code = "fail", http.StatusServiceUnavailable
		}
		details[n] = d
	}
	c.Header("Cache-Control", "no-store")
	if code != http.StatusOK {
		c.Header("Retry-After", "5")
	}
	c.Render(code, healthJSON{gin.H{"status": status, "checks": details}})
}

// healthJSON renders as application/health+json.
type healthJSON struct{ v any }

func (h healthJSON) Render(w http.ResponseWriter) error {
	h.WriteContentType(w)
	return jsonRender(w, h.v)
}

func (h healthJSON) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/health+json")
}

func jsonRender(w http.ResponseWriter, v any) error {
	return json.NewEncoder(w).Encode(v)
}
