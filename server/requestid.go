package server

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/gin-gonic/gin"
)

// RequestIDHeader carries the request id: taken from the caller when it is a safe
// token (a reverse proxy's id then follows the request through), made here otherwise,
// and always echoed in the answer so that a user's report can be matched to the log.
const RequestIDHeader = "X-Request-Id"

// ctxRequestID holds the request id in the gin context.
const ctxRequestID = "request.id"

// RequestObserver is told of every answered request, after the answer: metrics and
// tracing (server/observe) implement it. Only the interaction, the resource type, the
// status and the duration are passed: never a path, query or body, which may carry
// patient data.
type RequestObserver interface {
	ObserveRequest(method, interaction, resourceType string, status int, d time.Duration)
}

// requestID gives every request its id before anything else runs.
func requestID(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !safeRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Header(RequestIDHeader, id)
	c.Next()
}

// safeRequestID accepts a caller's id only when it cannot inject anything into a log
// line or a header: 1 to 64 letters, digits, '-', '_' or '.'.
func safeRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// RequestID returns the id of the request in c ("" outside a request).
func RequestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// Interaction returns the FHIR interaction and resource type a request was routed to
// ("" before routing, or for requests outside the FHIR base).
func Interaction(c *gin.Context) (op, typ string) { return c.GetString(ctxOp), c.GetString(ctxType) }
