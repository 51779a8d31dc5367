package server

import (
	"github.com/gin-gonic/gin"
)

// bound gives every FHIR request the service's deadline (rest.Limits.Deadline): past
// it, the request's context is cancelled, the store rolls back a write in progress,
// and the client gets a 422 too-costly.
func (s *Server) bound(c *gin.Context) {
	ctx, cancel := s.svc.WithDeadline(c.Request.Context())
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// hardenHeaders sets what every answer carries: browsers must not sniff a JSON answer
// into HTML (nosniff), and nothing that may hold patient data is kept by a cache
// (no-store). A handler that serves public, cacheable content may override
// Cache-Control.
func (s *Server) hardenHeaders(c *gin.Context) {
	h := c.Writer.Header()
	// canonical keys and shared values: two allocations fewer per request. A value
	// slice of one is never written in place (Set replaces it, Add appends to a copy).
	h["X-Content-Type-Options"] = nosniff
	h["Cache-Control"] = noStore
	c.Next()
}

var nosniff, noStore = []string{"nosniff"}, []string{"no-store"}
