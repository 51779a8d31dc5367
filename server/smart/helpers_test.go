package smart

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// testEnv is an auth server + middleware + stub FHIR handlers on a real listener.
type testEnv struct {
	srv  *httptest.Server
	cfg  Config
	kv   *MemKV
	auth *AuthServer
	ver  *Verifier
	keys *Keyset
}

type stubPatients []PatientSummary

func (p stubPatients) Find(_ context.Context, care Care, q string, limit int) ([]PatientSummary, bool, error) {
	var out []PatientSummary
	for _, s := range p {
		if care.MaySee(s.ID) && s.Matches(q) {
			if len(out) == limit {
				return out, true, nil
			}
			out = append(out, s)
		}
	}
	return out, false, nil
}

func (p stubPatients) Summary(_ context.Context, id string) (*PatientSummary, error) {
	for _, s := range p {
		if s.ID == id {
			return &s, nil
		}
	}
	return nil, nil
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	e := &testEnv{kv: NewMemKV()}
	// the server's address is known before it serves, so that the router (which
	// needs the base URL) is complete before the first request
	e.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(e.srv.Close)
	e.cfg = Config{BaseURL: "http://" + e.srv.Listener.Addr().String() + "/fhir", DataDir: t.TempDir(), BuiltIn: true}
	var err error
	if e.keys, err = OpenKeyset(e.cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	e.auth, err = NewAuthServer(e.cfg, e.kv, e.keys, stubPatients{{ID: "p1", Name: "Test One", BirthDate: "1950-01-01"}, {ID: "p2", Name: "Test Two"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.ver, err = NewVerifier(e.cfg, e.keys); err != nil {
		t.Fatal(err)
	}
	e.ver.Revocations = e.auth.Revocations() // as the gateway wires them
	e.cfg, _ = e.cfg.normalize()
	r := gin.New()
	r.Use(e.ver.Middleware())
	e.auth.Register(r)
	fh := r.Group("/fhir")
	fh.GET("/.well-known/smart-configuration", e.auth.Discovery())
	fh.GET("/metadata", func(c *gin.Context) {
		c.Data(200, "application/fhir+json", []byte(`{"resourceType":"CapabilityStatement"}`))
	})
	ok := func(c *gin.Context) {
		g := GrantFrom(c)
		c.JSON(200, gin.H{"resourceType": "Bundle", "type": "searchset", "total": 0, "client": g.ClientID, "patient": g.Patient})
	}
	fh.GET("/:type", ok)
	fh.POST("/:type", ok)
	fh.GET("/:type/:id", ok)
	fh.PUT("/:type/:id", ok)
	fh.GET("/:type/:id/*rest", ok)
	e.srv.Config.Handler = r
	e.srv.Start()
	return e
}

// do sends a request with an optional bearer token.
func (e *testEnv) do(t testing.TB, method, path, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// outcome decodes an OperationOutcome body and returns its first issue code.
func outcome(t testing.TB, resp *http.Response) (code, diag string) {
	t.Helper()
	defer resp.Body.Close()
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code, Diagnostics string
		} `json:"issue"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("status %d: body is not an OperationOutcome (%v)", resp.StatusCode, err)
	}
	return oo.Issue[0].Code, oo.Issue[0].Diagnostics
}

// clientKey is an ES384 key of a backend client and its public JWK Set.
func clientKey(t testing.TB) (crypto.Signer, json.RawMessage) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	j := publicJWK(k.Public())
	j["kid"], j["alg"] = "backend-1", "ES384"
	b, _ := json.Marshal(map[string]any{"keys": []any{j}})
	return k, b
}
