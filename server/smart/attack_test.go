package smart

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claimsFor returns valid access claims for e, to be spoiled by each attack.
func claimsFor(e *testEnv, scope, patient string) accessClaims {
	now := time.Now()
	return accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: e.cfg.Issuer, Subject: "app", Audience: jwt.ClaimStrings{e.cfg.BaseURL},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: randomToken(8),
		},
		Scope: scope, ClientID: "app", Patient: patient,
	}
}

func signed(t *testing.T, e *testEnv, c accessClaims) string {
	t.Helper()
	tok, err := sign(e.keys, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAttackCatalogue: every forged, stale or misdirected token is refused with 401 and
// an OperationOutcome (issue code login); a valid one passes.
func TestAttackCatalogue(t *testing.T) {
	e := newEnv(t)
	pubDER, _ := x509.MarshalPKIXPublicKey(e.keys.Signer().Private.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	cases := []struct {
		name  string
		token func() string
		want  string // fragment of the diagnostics
	}{
		{"no token", func() string { return "" }, "Bearer access token is required"},
		{"not a JWT", func() string { return "abc.def" }, "not a JWT"},
		{"alg none", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor(e, "user/*.cruds", ""))
			tok.Header["kid"] = e.keys.Signer().KID
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}, "none and HMAC are refused"},
		{"HS256 signed with the public key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsFor(e, "user/*.cruds", ""))
			tok.Header["kid"] = e.keys.Signer().KID
			s, _ := tok.SignedString(pubPEM)
			return s
		}, "none and HMAC are refused"},
		{"expired", func() string {
			c := claimsFor(e, "user/*.cruds", "")
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
			c.IssuedAt, c.NotBefore = jwt.NewNumericDate(time.Now().Add(-3*time.Hour)), nil
			return signed(t, e, c)
		}, "expired"},
		{"not yet valid", func() string {
			c := claimsFor(e, "user/*.cruds", "")
			c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))
			return signed(t, e, c)
		}, "not valid yet"},
		{"no exp", func() string {
			c := claimsFor(e, "user/*.cruds", "")
			c.ExpiresAt = nil
			return signed(t, e, c)
		}, "exp"},
		{"wrong aud", func() string {
			c := claimsFor(e, "user/*.cruds", "")
			c.Audience = jwt.ClaimStrings{"https://other.example/fhir"}
			return signed(t, e, c)
		}, "aud"},
		{"wrong iss", func() string {
			c := claimsFor(e, "user/*.cruds", "")
			c.Issuer = "https://evil.example"
			return signed(t, e, c)
		}, "iss"},
		{"unknown kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(e, "user/*.cruds", ""))
			tok.Header["kid"] = "no-such-key"
			s, _ := tok.SignedString(e.keys.Signer().Private)
			return s
		}, "kid"},
		{"signature by another key", func() string {
			other, err := OpenKeyset(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(e, "user/*.cruds", ""))
			tok.Header["kid"] = e.keys.Signer().KID // claims our kid, signed by theirs
			s, _ := tok.SignedString(other.Signer().Private)
			return s
		}, "signature is invalid"},
		{"ES256 header on the RSA key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, claimsFor(e, "user/*.cruds", ""))
			tok.Header["kid"] = e.keys.Signer().KID
			s, _ := tok.SignedString(e.keys.active("ES256").Private)
			return s
		}, "alg does not match"},
		{"malformed scope", func() string { return signed(t, e, claimsFor(e, "user/Nope.rs", "")) }, "scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, "GET", "/fhir/CarePlan", tc.token())
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			code, diag := outcome(t, resp)
			if code != "login" || !strings.Contains(diag, tc.want) {
				t.Errorf("issue %s %q, want login containing %q", code, diag, tc.want)
			}
		})
	}
	t.Run("valid token passes", func(t *testing.T) {
		resp := e.do(t, "GET", "/fhir/CarePlan", signed(t, e, claimsFor(e, "user/*.cruds", "")))
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("open paths need no token", func(t *testing.T) {
		for _, p := range []string{"/fhir/metadata", "/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration", "/auth/jwks"} {
			resp := e.do(t, "GET", p, "")
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: status %d", p, resp.StatusCode)
			}
		}
	})
}

// TestScopeAttacks: a valid token used beyond its scopes or its patient gets 403.
func TestScopeAttacks(t *testing.T) {
	e := newEnv(t)
	readOnly := signed(t, e, claimsFor(e, "user/CarePlan.read", ""))
	patient := signed(t, e, claimsFor(e, "patient/*.rs", "p1"))
	cases := []struct {
		name, method, path, token string
	}{
		{"write with a read scope", "POST", "/fhir/CarePlan", readOnly},
		{"update with a read scope", "PUT", "/fhir/CarePlan/1", readOnly},
		{"other type", "GET", "/fhir/Observation", readOnly},
		{"patient token writes", "POST", "/fhir/Observation", patient},
		{"patient token reads another Patient", "GET", "/fhir/Patient/p2", patient},
		{"patient token reads another Patient's history", "GET", "/fhir/Patient/p2/_history", patient},
		{"patient token vreads another Patient", "GET", "/fhir/Patient/p2/_history/1", patient},
		{"patient token $everything on another Patient", "GET", "/fhir/Patient/p2/$everything", patient},
		{"patient token searches another compartment", "GET", "/fhir/Patient/p2/CarePlan", patient},
		{"wildcard does not reach AuditEvent", "GET", "/fhir/AuditEvent", signed(t, e, claimsFor(e, "system/*.cruds", ""))},
		{"nobody writes AuditEvent", "POST", "/fhir/AuditEvent", signed(t, e, claimsFor(e, "system/AuditEvent.cruds", ""))},
		{"patient scope without patient context", "GET", "/fhir/CarePlan", signed(t, e, claimsFor(e, "patient/*.rs", ""))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, tc.method, tc.path, tc.token)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
			if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			if code, _ := outcome(t, resp); code != "security" {
				t.Errorf("issue code %s", code)
			}
		})
	}
	for _, ok := range []struct{ method, path, token string }{
		{"GET", "/fhir/CarePlan/1", readOnly},
		{"GET", "/fhir/Patient/p1", patient},
		{"GET", "/fhir/Patient/p1/$everything", patient},
		{"GET", "/fhir/Patient/p1/CarePlan", patient},
		{"GET", "/fhir/AuditEvent?patient=p1", signed(t, e, claimsFor(e, AuditScope, ""))},
	} {
		resp := e.do(t, ok.method, ok.path, ok.token)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: status %d, want 200", ok.method, ok.path, resp.StatusCode)
		}
	}
}

// TestBackendAssertionAttacks: replayed jti and a too-long-lived assertion are refused.
func TestBackendAssertionAttacks(t *testing.T) {
	e := newEnv(t)
	key, set := clientKey(t)
	if err := AddClient(t.Context(), e.kv, Client{ID: "hub", Type: ClientConfidentialAsymmetric, JWKS: set, Scope: "system/*.rs"}); err != nil {
		t.Fatal(err)
	}
	assertion := func(exp time.Duration, jti string, aud string) string {
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.RegisteredClaims{Issuer: "hub", Subject: "hub",
			Audience: jwt.ClaimStrings{aud}, ExpiresAt: jwt.NewNumericDate(now.Add(exp)), ID: jti})
		tok.Header["kid"] = "backend-1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	post := func(a string) (int, map[string]any) {
		return postForm(t, e.srv.URL+"/auth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"system/CarePlan.rs"},
			"client_assertion_type": {jwtBearer}, "client_assertion": {a}}, nil)
	}
	if st, body := post(assertion(5*time.Minute, "j1", e.cfg.TokenURL())); st != 200 {
		t.Fatalf("first use: %d %v", st, body)
	}
	cases := []struct{ name, assertion, want string }{
		{"replayed jti", assertion(4*time.Minute, "j1", e.cfg.TokenURL()), "replay"},
		{"exp too far", assertion(5*time.Minute+30*time.Second, "j2", e.cfg.TokenURL()), "5 minutes"},
		{"wrong aud", assertion(time.Minute, "j3", e.cfg.BaseURL), "aud"},
		{"expired", assertion(-10*time.Minute, "j4", e.cfg.TokenURL()), "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, body := post(tc.assertion)
			if st != http.StatusUnauthorized || body["resourceType"] != "OperationOutcome" || body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), tc.want) {
				t.Fatalf("got %d %v, want 401 invalid_client mentioning %q", st, body, tc.want)
			}
		})
	}
}
