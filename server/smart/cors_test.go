package smart

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestCORSPreflightBeforeAuth: a preflight to the FHIR base or the token endpoint is
// answered without a token for an allowed origin, and gets no Allow-Origin for
// another; the authorization page is not covered.
func TestCORSPreflightBeforeAuth(t *testing.T) {
	e := newEnv(t)
	for _, bad := range []string{"*", "app.example", "https://app.example/path", "ftp://x"} {
		if _, err := NewCORS(e.cfg.BaseURL, []string{bad}); err == nil {
			t.Errorf("origin %q accepted", bad)
		}
	}
	cors, err := NewCORS(e.cfg.BaseURL, []string{"https://app.example/"})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(cors.Middleware(), e.ver.Middleware())
	e.auth.Register(r)
	r.Any("/fhir/*p", func(c *gin.Context) { c.Header("ETag", `W/"1"`); c.Status(200) })
	srv := httptest.NewServer(r)
	defer srv.Close()
	pre := func(path, origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", srv.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "Authorization, Content-Type") // browsers send lower case; a hand-written client may not
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, p := range []string{"/fhir/Patient", "/auth/token", "/auth/introspect", "/.well-known/smart-configuration"} {
		if resp := pre(p, "https://app.example"); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("preflight %s: %d %q", p, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if resp := pre(p, "https://evil.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight %s from a foreign origin allowed", p)
		}
	}
	if resp := pre("/auth/authorize", "https://app.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the authorization page is open to cross-origin fetches")
	}
	if !cors.Enabled() || !cors.Allowed(strings.TrimSuffix(e.srv.URL, "/")) {
		t.Errorf("the gateway's own origin is not allowed")
	}
}
