package smart

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/aitgw/aitgw/fhir"
)

// UserAuthenticator identifies the user at the authorization endpoint (the hospital's
// login, a reverse proxy header…). It returns the user's FHIR reference
// (e.g. "Practitioner/123") or an error when nobody is logged in.
type UserAuthenticator interface {
	Authenticate(r *http.Request) (fhirUser string, err error)
}

// AuthServer is the built-in SMART authorization server.
type AuthServer struct {
	cfg      Config
	kv       KV
	keys     *Keyset
	patients PatientDirectory
	// Users, when set, authenticates the user before the picker and consent; without it
	// the pages serve whoever reaches them (development and trusted-network setups).
	Users UserAuthenticator
	// verifier checks operator tokens on the registration endpoint, and the tokens
	// presented to introspection, revocation and userinfo.
	verifier *Verifier
	// revocations lists the revoked access tokens (shared with the gateway's
	// verifier: see Revocations).
	revocations *Revocations
	// Access, when set, decides which patients a user may launch an app with (the
	// picker, and the authorization and token endpoints); without it any patient.
	Access PatientAccess
	// Audit, when set, records each login, failed or not, as an AuditEvent.
	Audit LoginAuditor
	// throttle slows down password guessing per account and per address.
	throttle *loginThrottle
	now      func() time.Time

	jwksMu    sync.Mutex
	jwksCache map[string]*remoteJWKS
}

// NewAuthServer returns the built-in server. keys may be nil (opened from DataDir).
func NewAuthServer(cfg Config, kv KV, keys *Keyset, patients PatientDirectory) (*AuthServer, error) {
	cfg.BuiltIn = true
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if keys == nil {
		if keys, err = OpenKeyset(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	v, err := NewVerifier(cfg, keys)
	if err != nil {
		return nil, err
	}
	v.Revocations = NewRevocations(kv)
	return &AuthServer{cfg: cfg, kv: kv, keys: keys, patients: patients, verifier: v,
		revocations: v.Revocations, throttle: newLoginThrottle(),
		now: time.Now, jwksCache: map[string]*remoteJWKS{}}, nil
}

// Revocations returns the server's list of revoked tokens, for the gateway's
// verifier to refuse them too.
func (s *AuthServer) Revocations() *Revocations { return s.revocations }

// Register mounts the root discovery document and the /auth endpoints on r (the root
// router). The FHIR server serves Discovery under its base itself, since the base
// path belongs to its router.
func (s *AuthServer) Register(r gin.IRouter) {
	r.GET("/.well-known/smart-configuration", s.discovery)
	r.GET("/.well-known/openid-configuration", s.openidConfiguration)
	r.POST("/auth/introspect", s.introspect)
	r.POST("/auth/revoke", s.revoke)
	r.GET("/auth/userinfo", s.userinfo)
	r.POST("/auth/userinfo", s.userinfo)
	r.GET("/auth/authorize", s.authorize)
	r.POST("/auth/authorize", s.authorizeSubmit)
	r.POST("/auth/token", s.token)
	r.GET("/auth/jwks", s.jwks)
	r.POST("/auth/register", s.register)
	r.POST("/auth/launch", s.launch)
	r.POST("/auth/users", s.users)
	r.GET("/auth/users", s.listUsers)
	r.DELETE("/auth/users/:name", s.removeUser)
	r.GET("/auth/register", s.listClients)
	r.DELETE("/auth/register/:id", s.removeClient)
}

// capabilities advertised in the discovery document (SMART App Launch 2.0 §8).
var capabilities = []string{
	"launch-ehr", "launch-standalone", "authorize-post",
	"client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
	"context-ehr-patient", "context-ehr-encounter", "context-standalone-patient",
	"permission-offline", "permission-online", "permission-patient", "permission-user",
	"permission-v1", "permission-v2", "sso-openid-connect",
}

// Discovery serves /.well-known/smart-configuration.
func (s *AuthServer) Discovery() gin.HandlerFunc { return s.discovery }

func (s *AuthServer) discovery(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	d := s.serverMetadata()
	d["capabilities"] = capabilities
	c.JSON(http.StatusOK, d)
}

// serverMetadata are the members the SMART configuration and the OpenID discovery
// document share, so that they never disagree.
func (s *AuthServer) serverMetadata() gin.H {
	return gin.H{
		"issuer":                                           s.cfg.Issuer,
		"jwks_uri":                                         s.cfg.jwksURL(),
		"authorization_endpoint":                           s.cfg.authorizeURL(),
		"token_endpoint":                                   s.cfg.TokenURL(),
		"registration_endpoint":                            s.cfg.registerURL(),
		"introspection_endpoint":                           s.cfg.introspectURL(),
		"revocation_endpoint":                              s.cfg.revokeURL(),
		"userinfo_endpoint":                                s.cfg.userinfoURL(),
		"grant_types_supported":                            []string{"authorization_code", "refresh_token", "client_credentials"},
		"response_types_supported":                         []string{"code"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt", "client_secret_basic"},
		"token_endpoint_auth_signing_alg_values_supported": acceptedAlgs,
		"introspection_endpoint_auth_methods_supported":    []string{"private_key_jwt", "client_secret_basic"},
		"revocation_endpoint_auth_methods_supported":       []string{"private_key_jwt", "client_secret_basic", "none"},
		"id_token_signing_alg_values_supported":            []string{"RS256"},
		"subject_types_supported":                          []string{"public"},
		"scopes_supported": []string{
			ScopeOpenID, ScopeFHIRUser, ScopeLaunch, ScopeLaunchPatient, ScopeOfflineAccess, ScopeOnlineAccess,
			"patient/*.rs", "user/*.cruds", "system/*.cruds", "patient/*.read", "user/*.read", "user/*.write",
			"system/*.read", AuditScope,
		},
	}
}

// OpenIDConfiguration serves /.well-known/openid-configuration (OpenID Connect
// Discovery 1.0), for the FHIR server to mount under its base too.
func (s *AuthServer) OpenIDConfiguration() gin.HandlerFunc { return s.openidConfiguration }

func (s *AuthServer) openidConfiguration(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	d := s.serverMetadata()
	d["claims_supported"] = []string{"iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"}
	d["response_modes_supported"] = []string{"query"}
	c.JSON(http.StatusOK, d)
}

func (s *AuthServer) jwks(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/jwk-set+json", s.keys.JWKS())
}

// register is RFC 7591 dynamic registration, restricted to operator tokens carrying
// ScopeRegister (minted with MintToken): no open registration.
func (s *AuthServer) register(c *gin.Context) {
	if !s.operatorGrant(c, ScopeRegister, "registration") {
		return
	}
	var req struct {
		Name         string          `json:"client_name"`
		RedirectURIs []string        `json:"redirect_uris"`
		AuthMethod   string          `json:"token_endpoint_auth_method"`
		Scope        string          `json:"scope"`
		JWKS         json.RawMessage `json:"jwks"`
		JWKSURI      string          `json:"jwks_uri"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)).Decode(&req); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_client_metadata", "body is not a JSON client metadata document")
		return
	}
	cl := Client{ID: randomToken(16), Name: req.Name, RedirectURIs: req.RedirectURIs, Scope: req.Scope,
		JWKS: req.JWKS, JWKSURL: req.JWKSURI}
	resp := gin.H{"client_id": cl.ID, "client_name": cl.Name, "redirect_uris": cl.RedirectURIs,
		"scope": cl.Scope, "token_endpoint_auth_method": req.AuthMethod}
	switch req.AuthMethod {
	case "", "none":
		cl.Type = ClientPublic
		resp["token_endpoint_auth_method"] = "none"
	case "client_secret_basic":
		cl.Type, cl.Secret = ClientConfidentialSymmetric, randomToken(32)
		resp["client_secret"] = cl.Secret
	case "private_key_jwt":
		cl.Type = ClientConfidentialAsymmetric
	default:
		oauthError(c, http.StatusBadRequest, "invalid_client_metadata", "token_endpoint_auth_method must be none, client_secret_basic or private_key_jwt")
		return
	}
	if err := AddClient(c.Request.Context(), s.kv, cl); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_client_metadata", err.Error())
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, resp)
}

// oauthError writes an RFC 6749 §5.2 error (the token and registration endpoints speak
// OAuth, not FHIR).
func oauthError(c *gin.Context, status int, code, desc string) {
	c.Header("Cache-Control", "no-store")
	if status == http.StatusUnauthorized && c.Writer.Header().Get("WWW-Authenticate") == "" {
		c.Header("WWW-Authenticate", `Basic realm="aitgw"`)
	}
	issue := "security"
	if status == http.StatusUnauthorized {
		issue = "login"
	} else if status >= 500 {
		issue = "exception"
	}
	// The body is an OAuth error and, with the same members, an OperationOutcome, so
	// that OAuth libraries and FHIR clients both read it.
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": desc,
		"resourceType": "OperationOutcome",
		"issue":        []fhir.Issue{{Severity: fhir.SeverityError, Code: issue, Diagnostics: code + ": " + desc}}})
}

// randomToken returns n random bytes, base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenContext is what an access token is minted from.
type tokenContext struct {
	ClientID  string
	Scope     string
	Patient   string
	Encounter string
	FHIRUser  string
	Subject   string
}

// signAccess mints an access token for the FHIR base.
func signAccess(ks *Keyset, cfg Config, tc tokenContext, ttl time.Duration, now time.Time) (string, error) {
	raw, _, err := mintAccess(ks, cfg, tc, ttl, now)
	return raw, err
}

// mintAccess is signAccess returning the token's jti too (for revocation).
func mintAccess(ks *Keyset, cfg Config, tc tokenContext, ttl time.Duration, now time.Time) (string, string, error) {
	sub := tc.Subject
	if sub == "" {
		sub = tc.ClientID
	}
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: cfg.Issuer, Subject: sub, Audience: jwt.ClaimStrings{cfg.BaseURL},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: randomToken(16),
		},
		Scope: tc.Scope, ClientID: tc.ClientID, Patient: tc.Patient, Encounter: tc.Encounter,
		FHIRUser: tc.FHIRUser,
	}
	raw, err := sign(ks, claims)
	return raw, claims.ID, err
}

// sign signs claims with the active key, naming it by kid.
func sign(ks *Keyset, claims jwt.Claims) (string, error) {
	k := ks.Signer()
	m := jwt.GetSigningMethod(k.Alg)
	t := jwt.NewWithClaims(m, claims)
	t.Header["kid"] = k.KID
	return t.SignedString(k.Private)
}
