package smart

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// MaxAssertionLifetime bounds a client assertion's exp: at most 5 minutes after now,
// inclusive (SMART Backend Services, "Authenticating to the Token endpoint").
const MaxAssertionLifetime = 5 * time.Minute

// jwtBearer is the client_assertion_type of private_key_jwt.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// refreshRecord is a stored refresh token (keyed by its SHA-256).
type refreshRecord struct {
	tokenContext
	Nonce   string    `json:"nonce,omitempty"`
	Expires time.Time `json:"expires"`
	// Family is the chain of rotated refresh tokens this one belongs to.
	Family string `json:"family,omitempty"`
}

// oauthErr is a token-endpoint failure.
type oauthErr struct {
	status int
	code   string
	desc   string
}

func (e *oauthErr) Error() string { return e.code + ": " + e.desc }

func badRequest(code, desc string) *oauthErr { return &oauthErr{http.StatusBadRequest, code, desc} }
func badClient(desc string) *oauthErr {
	return &oauthErr{http.StatusUnauthorized, "invalid_client", desc}
}

func (s *AuthServer) token(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return
	}
	f := c.Request.PostForm
	var resp gin.H
	var err *oauthErr
	switch f.Get("grant_type") {
	case "authorization_code":
		resp, err = s.codeGrant(c, f)
	case "refresh_token":
		resp, err = s.refreshGrant(c, f)
	case "client_credentials":
		resp, err = s.clientCredentials(c, f)
	default:
		err = badRequest("unsupported_grant_type", "grant_type must be authorization_code, refresh_token or client_credentials")
	}
	if err != nil {
		oauthError(c, err.status, err.code, err.desc)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.JSON(http.StatusOK, resp)
}

// authenticateClient applies the client's registered method: private_key_jwt,
// client_secret_basic, or none (public clients, which then rely on PKCE).
func (s *AuthServer) authenticateClient(c *gin.Context, f url.Values) (*Client, *oauthErr) {
	ctx := c.Request.Context()
	if a := f.Get("client_assertion"); a != "" {
		if f.Get("client_assertion_type") != jwtBearer {
			return nil, badClient("client_assertion_type must be " + jwtBearer)
		}
		return s.verifyAssertion(ctx, a)
	}
	if id, secret, ok := basicClient(c); ok {
		cl, err := GetClient(ctx, s.kv, id)
		// A browser resends the user's login (HTTP Basic at /auth/authorize) to every
		// URL under /auth/, the token endpoint included: Basic credentials that name no
		// registered client, and not the client_id of the form, are that login, not
		// client authentication; a public client named by client_id goes on with PKCE.
		// Credentials naming a client must authenticate it.
		userLogin := err == nil && cl == nil && id != f.Get("client_id")
		if !userLogin {
			if err != nil || cl == nil || cl.Type != ClientConfidentialSymmetric || !cl.checkSecret(secret) {
				return nil, badClient("client authentication failed")
			}
			return cl, nil
		}
	}
	cl, err := GetClient(ctx, s.kv, f.Get("client_id"))
	if err != nil || cl == nil {
		return nil, badClient("unknown client")
	}
	if cl.Type != ClientPublic {
		return nil, badClient("this client must authenticate (private_key_jwt or client_secret_basic)")
	}
	return cl, nil
}

// basicClient reads client_secret_basic credentials, form-decoded (RFC 6749 §2.3.1).
func basicClient(c *gin.Context) (id, secret string, ok bool) {
	id, secret, ok = c.Request.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	return id, secret, ok
}

// verifyAssertion checks a private_key_jwt client assertion: alg, signature by one of
// the client's keys, iss = sub = client_id, aud = token URL, exp within 5 minutes, and
// a jti never seen before (replay cache kept until exp).
func (s *AuthServer) verifyAssertion(ctx context.Context, raw string) (*Client, *oauthErr) {
	var claims jwt.RegisteredClaims
	var cl *Client
	p := jwt.NewParser(jwt.WithValidMethods(acceptedAlgs), jwt.WithExpirationRequired(),
		jwt.WithLeeway(s.cfg.Skew), jwt.WithAudience(s.cfg.TokenURL()), jwt.WithTimeFunc(s.now))
	_, err := p.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		iss, _ := t.Claims.GetIssuer()
		sub, _ := t.Claims.GetSubject()
		if iss == "" || iss != sub {
			return nil, errors.New("iss and sub must both be the client_id")
		}
		var err error
		if cl, err = GetClient(ctx, s.kv, iss); err != nil || cl == nil || cl.Type != ClientConfidentialAsymmetric {
			return nil, errors.New("unknown asymmetric client")
		}
		keys, err := s.clientKeys(ctx, cl, t.Header["kid"])
		if err != nil {
			return nil, err
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := selectKey(keys, kid)
		if !ok {
			return nil, errUnknownKID
		}
		alg, _ := t.Header["alg"].(string)
		if k.alg != "" && k.alg != alg {
			return nil, errAlgMismatch
		}
		return k.key, nil
	})
	if err != nil {
		v := &Verifier{cfg: s.cfg}
		return nil, badClient("client assertion: " + v.explain(err).Outcome.Issue[0].Diagnostics)
	}
	now := s.now()
	if claims.ExpiresAt.Time.Sub(now) > MaxAssertionLifetime {
		return nil, badClient("client assertion: exp is more than 5 minutes ahead")
	}
	if claims.ID == "" {
		return nil, badClient("client assertion: jti is required")
	}
	exp, _ := claims.ExpiresAt.Time.MarshalText()
	fresh, kerr := s.kv.PutNew(ctx, nsJTI, cl.ID+"\x00"+claims.ID, exp)
	if kerr != nil {
		return nil, &oauthErr{http.StatusInternalServerError, "server_error", "replay cache unavailable"}
	}
	if !fresh {
		return nil, badClient("client assertion: jti already used (replay)")
	}
	return cl, nil
}

// clientKeys returns the client's registered keys, fetching a JWKS URL (cached per
// URL, refetched on an unknown kid at most once a minute).
func (s *AuthServer) clientKeys(ctx context.Context, cl *Client, kidHeader any) ([]publicKey, error) {
	if len(cl.JWKS) > 0 {
		return parseJWKS(cl.JWKS)
	}
	s.jwksMu.Lock()
	r := s.jwksCache[cl.JWKSURL]
	if r == nil {
		r = newRemoteJWKS(cl.JWKSURL, nil, time.Minute)
		s.jwksCache[cl.JWKSURL] = r
	}
	s.jwksMu.Unlock()
	kid, _ := kidHeader.(string)
	k, err := r.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	return []publicKey{k}, nil
}

// clientCredentials is SMART Backend Services: system scopes only.
func (s *AuthServer) clientCredentials(c *gin.Context, f url.Values) (gin.H, *oauthErr) {
	if f.Get("client_assertion") == "" {
		return nil, badClient("client_credentials needs a private_key_jwt client assertion")
	}
	cl, oe := s.authenticateClient(c, f)
	if oe != nil {
		return nil, oe
	}
	scope, err := cl.grantable(f.Get("scope"))
	rs, other, _ := ParseScopes(scope)
	if err != nil || len(rs) == 0 || len(other) > 0 ||
		slices.ContainsFunc(rs, func(s Scope) bool { return s.Context != ContextSystem }) {
		return nil, badRequest("invalid_scope", "backend services get system/ scopes the client is registered for")
	}
	return s.issue(c.Request.Context(), tokenContext{ClientID: cl.ID, Scope: scope}, "", false, "")
}

// codeGrant redeems an authorization code (one use) with its PKCE verifier.
func (s *AuthServer) codeGrant(c *gin.Context, f url.Values) (gin.H, *oauthErr) {
	cl, oe := s.authenticateClient(c, f)
	if oe != nil {
		return nil, oe
	}
	ctx := c.Request.Context()
	code := f.Get("code")
	b, err := s.kv.Get(ctx, nsCodes, code)
	var cr codeRecord
	if err != nil || b == nil || json.Unmarshal(b, &cr) != nil {
		return nil, badRequest("invalid_grant", "unknown or expired code")
	}
	if first, err := s.kv.PutNew(ctx, nsCodeUsed, code, []byte{1}); err != nil || !first {
		return nil, badRequest("invalid_grant", "code already used")
	}
	_ = s.kv.Put(ctx, nsCodes, code, nil)
	switch {
	case s.now().After(cr.Expires):
		return nil, badRequest("invalid_grant", "code expired")
	case cr.ClientID != cl.ID:
		return nil, badRequest("invalid_grant", "code was issued to another client")
	case f.Get("redirect_uri") != cr.RedirectURI:
		return nil, badRequest("invalid_grant", "redirect_uri differs from the authorization request")
	case !pkceMatches(f.Get("code_verifier"), cr.Challenge):
		return nil, badRequest("invalid_grant", "code_verifier does not match the S256 code_challenge")
	}
	if oe := s.checkPatientAccess(ctx, cr.FHIRUser, cr.Patient); oe != nil {
		return nil, oe
	}
	tc := tokenContext{ClientID: cl.ID, Scope: cr.Scope, Patient: cr.Patient, Encounter: cr.Encounter,
		FHIRUser: cr.FHIRUser, Subject: cr.FHIRUser}
	return s.issue(ctx, tc, cr.Nonce, true, "")
}

// pkceMatches checks BASE64URL(SHA256(verifier)) == challenge (RFC 7636 §4.6).
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// refreshGrant rotates a refresh token: the old one dies, a new one of the same
// family is returned. A refresh token used a second time was copied (by the thief or
// by the app it was stolen from): the whole family is revoked, the newer refresh
// token and the access tokens it minted included (RFC 9700 §4.14.2).
func (s *AuthServer) refreshGrant(c *gin.Context, f url.Values) (gin.H, *oauthErr) {
	cl, oe := s.authenticateClient(c, f)
	if oe != nil {
		return nil, oe
	}
	ctx := c.Request.Context()
	key := hashToken(f.Get("refresh_token"))
	usedKey := "refresh\x00" + key
	if fam, err := s.kv.Get(ctx, nsCodeUsed, usedKey); err != nil {
		return nil, &oauthErr{http.StatusInternalServerError, "server_error", "refresh tokens unavailable"}
	} else if fam != nil {
		return nil, s.refreshReused(ctx, string(fam))
	}
	b, err := s.kv.Get(ctx, nsRefresh, key)
	var rr refreshRecord
	if err != nil || b == nil || json.Unmarshal(b, &rr) != nil {
		return nil, badRequest("invalid_grant", "unknown refresh token")
	}
	if rr.Family == "" {
		rr.Family = randomToken(16) // issued before families existed
	}
	if first, err := s.kv.PutNew(ctx, nsCodeUsed, usedKey, []byte(rr.Family)); err != nil || !first {
		return nil, s.refreshReused(ctx, rr.Family)
	}
	_ = s.kv.Put(ctx, nsRefresh, key, nil)
	if s.now().After(rr.Expires) || rr.ClientID != cl.ID {
		return nil, badRequest("invalid_grant", "refresh token expired or issued to another client")
	}
	if fam, err := s.getFamily(ctx, rr.Family); err != nil || fam != nil && fam.Revoked {
		return nil, badRequest("invalid_grant", "refresh token revoked")
	}
	if want := f.Get("scope"); want != "" {
		// A refresh may narrow the scope, never widen it.
		narrowed := (&Client{Scope: rr.Scope}).mustGrantable(want)
		if narrowed == "" {
			return nil, badRequest("invalid_scope", "requested scope exceeds the original grant")
		}
		rr.Scope = narrowed
	}
	if oe := s.checkPatientAccess(ctx, rr.FHIRUser, rr.Patient); oe != nil {
		return nil, oe
	}
	return s.issue(ctx, rr.tokenContext, rr.Nonce, true, rr.Family)
}

// refreshReused revokes the family of a refresh token presented a second time.
func (s *AuthServer) refreshReused(ctx context.Context, fam string) *oauthErr {
	if len(fam) > 1 { // markers of tokens used before families existed hold one byte
		if err := s.revokeFamily(ctx, fam); err != nil {
			return &oauthErr{http.StatusInternalServerError, "server_error", "the reused refresh token's family could not be revoked"}
		}
	}
	return badRequest("invalid_grant", "refresh token already used: every token of this authorization is revoked")
}

func (c *Client) mustGrantable(s string) string {
	g, _ := c.grantable(s)
	return g
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// issue builds the token response: access token, plus refresh token for
// offline_access/online_access and id_token for openid+fhirUser when interactive.
// fam is the refresh-token family being rotated ("" starts a new one).
func (s *AuthServer) issue(ctx context.Context, tc tokenContext, nonce string, interactive bool, fam string) (gin.H, *oauthErr) {
	now := s.now()
	at, jti, err := mintAccess(s.keys, s.cfg, tc, s.cfg.AccessTTL, now)
	if err != nil {
		return nil, &oauthErr{http.StatusInternalServerError, "server_error", "token signing failed"}
	}
	resp := gin.H{"access_token": at, "token_type": "Bearer",
		"expires_in": int(s.cfg.AccessTTL / time.Second), "scope": tc.Scope}
	if tc.Patient != "" {
		resp["patient"] = tc.Patient
		resp["need_patient_banner"] = true
	}
	if tc.Encounter != "" {
		resp["encounter"] = tc.Encounter
	}
	if !interactive {
		return resp, nil
	}
	_, other, _ := ParseScopes(tc.Scope)
	if slices.Contains(other, ScopeOfflineAccess) || slices.Contains(other, ScopeOnlineAccess) {
		rt := randomToken(32)
		ttl := s.cfg.RefreshTTL
		if !slices.Contains(other, ScopeOfflineAccess) {
			ttl = min(ttl, 12*time.Hour) // online access ends with the working day
		}
		if fam == "" {
			fam = randomToken(16)
		}
		f, err := s.getFamily(ctx, fam)
		if err != nil {
			return nil, &oauthErr{http.StatusInternalServerError, "server_error", "refresh token could not be stored"}
		}
		if f == nil {
			f = &family{}
		}
		f.Current = hashToken(rt)
		f.Access = append(f.Access, mintedToken{JTI: jti, Exp: now.Add(s.cfg.AccessTTL)})
		b, _ := json.Marshal(refreshRecord{tokenContext: tc, Nonce: nonce, Expires: now.Add(ttl), Family: fam})
		if err := s.kv.Put(ctx, nsRefresh, f.Current, b); err != nil {
			return nil, &oauthErr{http.StatusInternalServerError, "server_error", "refresh token could not be stored"}
		}
		if err := s.putFamily(ctx, fam, f); err != nil {
			return nil, &oauthErr{http.StatusInternalServerError, "server_error", "refresh token could not be stored"}
		}
		resp["refresh_token"] = rt
	}
	if slices.Contains(other, ScopeOpenID) && tc.FHIRUser != "" &&
		(slices.Contains(other, ScopeFHIRUser) || slices.Contains(other, ScopeProfile)) {
		idt, err := s.idToken(tc, nonce, now)
		if err != nil {
			return nil, &oauthErr{http.StatusInternalServerError, "server_error", "id_token signing failed"}
		}
		resp["id_token"] = idt
	}
	return resp, nil
}

// idToken is the OpenID Connect id_token: sub and fhirUser name the user, aud the app.
func (s *AuthServer) idToken(tc tokenContext, nonce string, now time.Time) (string, error) {
	fu := tc.FHIRUser
	if !strings.Contains(fu, "://") {
		fu = s.cfg.BaseURL + "/" + fu
	}
	claims := jwt.MapClaims{
		"iss": s.cfg.Issuer, "sub": tc.FHIRUser, "aud": tc.ClientID, "fhirUser": fu,
		"iat": now.Unix(), "exp": now.Add(s.cfg.AccessTTL).Unix(),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return sign(s.keys, claims)
}
