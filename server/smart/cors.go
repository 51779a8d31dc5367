package smart

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/rs/cors"
)

// CORS lets SMART apps running in a browser on another origin call the gateway: the
// FHIR base, the discovery documents and the authorization server's machine endpoints
// (token, introspection, revocation, userinfo, jwks), and the Bulk Data status and
// file URLs under /bulk/. The authorization and consent
// pages are navigations, not fetches, and stay out of it.
//
// A preflight is answered here, before the request reaches authentication (a
// preflight carries no token). An origin that is not allowed gets no
// Access-Control-Allow-Origin, so the browser refuses the app the answer.
type CORS struct {
	// origins are the allowed origins, lower-cased, without trailing slash.
	origins map[string]bool
	base    string // FHIR base path, e.g. /fhir
	c       *cors.Cors
}

// exposedHeaders are the response headers a FHIR client reads (create's Location,
// versioning's ETag and Last-Modified, Content-Location of history and operations),
// and those a Bulk Data client polls by (X-Progress, Retry-After).
var exposedHeaders = []string{"Location", "ETag", "Content-Location", "Last-Modified", "X-Progress", "Retry-After"}

// NewCORS allows origins (each "scheme://host[:port]", no wildcard) on the endpoints
// of a gateway whose FHIR base is baseURL. The gateway's own origin is always
// allowed: its own apps count.
func NewCORS(baseURL string, origins []string) (*CORS, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("smart: CORS needs an absolute base URL, not %q", baseURL)
	}
	o := &CORS{origins: map[string]bool{}, base: strings.TrimSuffix(u.Path, "/")}
	o.origins[normalOrigin(u.Scheme+"://"+u.Host)] = true
	for _, s := range origins {
		n := normalOrigin(s)
		ou, err := url.Parse(n)
		if n == "" || err != nil || ou.Host == "" || ou.Path != "" || ou.RawQuery != "" || strings.Contains(n, "*") {
			return nil, fmt.Errorf("smart: CORS origin %q is not scheme://host[:port]", s)
		}
		o.origins[n] = true
	}
	o.c = cors.New(cors.Options{
		AllowOriginFunc: func(origin string) bool { return o.origins[normalOrigin(origin)] },
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete},
		// any request header: FHIR clients send Authorization, Prefer, If-Match,
		// If-None-Exist, X-Request-Id…; without cookies, headers grant nothing
		AllowedHeaders: []string{"*"},
		ExposedHeaders: exposedHeaders,
		MaxAge:         600,
		// Bearer tokens, not cookies: credentialed requests are never needed.
		AllowCredentials:     false,
		OptionsSuccessStatus: http.StatusNoContent,
	})
	return o, nil
}

// normalOrigin lower-cases an origin and drops a trailing slash ("" when it is not
// an http(s) origin).
func normalOrigin(s string) string {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "/"))
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return ""
	}
	return s
}

// Enabled reports whether some origin may call the gateway cross-origin (the
// CapabilityStatement's rest.security.cors).
func (o *CORS) Enabled() bool { return len(o.origins) > 0 }

// Allowed reports whether origin may call the gateway.
func (o *CORS) Allowed(origin string) bool { return o.origins[normalOrigin(origin)] }

// covers reports whether path is one of the endpoints open to cross-origin calls.
func (o *CORS) covers(path string) bool {
	switch path {
	case "/.well-known/smart-configuration", "/.well-known/openid-configuration",
		"/auth/token", "/auth/introspect", "/auth/revoke", "/auth/userinfo", "/auth/jwks":
		return true
	}
	// /bulk/ holds the status and file URLs a $export kick-off (under the base) points to
	return path == o.base || strings.HasPrefix(path, o.base+"/") || strings.HasPrefix(path, "/bulk/")
}

// Middleware answers preflights on the covered endpoints (and ends them there,
// before authentication) and adds the CORS headers to their other responses. It must
// run before the verifier's middleware.
func (o *CORS) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !o.covers(c.Request.URL.Path) {
			c.Next()
			return
		}
		if h := c.Request.Header["Access-Control-Request-Headers"]; len(h) > 0 {
			// browsers send the names lower-cased (Fetch standard); rs/cors insists on
			// it, so a hand-written preflight ("Authorization") is not refused for its case
			for i := range h {
				h[i] = strings.ToLower(h[i])
			}
		}
		o.c.HandlerFunc(c.Writer, c.Request) // a preflight is answered (204) here
		if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
			c.Abort()
			return
		}
		c.Next()
	}
}
