package smart

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/aitgw/aitgw/fhir"
)

// acceptedAlgs are the only JWS algorithms accepted on access tokens and client
// assertions (SMART App Launch 2.0 Backend Services: RS384/ES384 required, RS256/ES256
// common). "none" and every HMAC are refused: HS256 "signed" with our public key is
// the classic confusion attack.
var acceptedAlgs = []string{"RS256", "RS384", "ES256", "ES384"}

// ecdsaCurveBits pins each ECDSA algorithm to its curve.
var ecdsaCurveBits = map[string]int{"ES256": 256, "ES384": 384}

// accessClaims are the claims of an access token. scope is the SMART/OAuth string;
// scp (an array) is accepted from external issuers that use it.
type accessClaims struct {
	jwt.RegisteredClaims
	Scope     string   `json:"scope,omitempty"`
	Scp       []string `json:"scp,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Patient   string   `json:"patient,omitempty"`
	Encounter string   `json:"encounter,omitempty"`
	FHIRUser  string   `json:"fhirUser,omitempty"`
}

// Verifier checks bearer access tokens and turns them into Grants.
type Verifier struct {
	cfg    Config
	keys   *Keyset // built-in keys; nil when BuiltIn is off
	remote *remoteJWKS
	// now is the clock (tests move it).
	now func() time.Time
	// reloadEvery rate-limits key reloads and JWKS refetches on unknown kids.
	reloadEvery time.Duration
	// verified remembers tokens already verified, until they expire: a client sends
	// the same token with every request, and a signature check costs more than the
	// read it guards.
	verified grantCache
	// Revocations, when set, refuses the tokens revoked (RFC 7009, refresh-token
	// reuse) until they expire.
	Revocations *Revocations
	// base is cfg's FHIR base path, parsed once rather than on every request.
	base string
}

// NewVerifier returns a Verifier for cfg. keys may be nil: the built-in keys are then
// opened from cfg.DataDir when cfg.BuiltIn is set.
func NewVerifier(cfg Config, keys *Keyset) (*Verifier, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, now: time.Now, reloadEvery: 30 * time.Second, base: cfg.basePath()}
	if cfg.BuiltIn {
		if keys == nil {
			if keys, err = OpenKeyset(cfg.DataDir); err != nil {
				return nil, err
			}
		}
		v.keys = keys
	}
	if cfg.JWKSURL != "" {
		v.remote = newRemoteJWKS(cfg.JWKSURL, nil, v.reloadEvery)
		v.remote.maxAge = cfg.JWKSRefresh
		v.remote.onChange = v.verified.clear
	}
	return v, nil
}

// unauthorized is a 401 with issue code "login".
func unauthorized(format string, args ...any) *fhir.Error {
	return fhir.Errorf(http.StatusUnauthorized, "login", "", format, args...)
}

// Verify checks a raw JWT (signature, alg, kid, iss, aud, exp, nbf) and returns the
// grant it carries, or a 401 *fhir.Error naming the rule broken.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Grant, error) {
	if v.remote != nil {
		v.remote.refreshIfStale(ctx) // a withdrawn key clears the cache
	}
	g := v.verified.get(raw, v.now())
	if g == nil {
		var err error
		if g, err = v.verify(ctx, raw); err != nil {
			return nil, err
		}
		v.verified.put(raw, g)
	}
	if v.Revocations != nil {
		revoked, err := v.Revocations.Revoked(ctx, g.Issuer, g.TokenID)
		if err != nil {
			return nil, fhir.Errorf(http.StatusServiceUnavailable, "transient", "", "the revocation list cannot be read; retry")
		}
		if revoked {
			return nil, unauthorized("token has been revoked")
		}
	}
	return g, nil
}

func (v *Verifier) verify(ctx context.Context, raw string) (*Grant, error) {
	var claims accessClaims
	p := jwt.NewParser(
		jwt.WithValidMethods(acceptedAlgs),
		jwt.WithLeeway(v.cfg.Skew),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(v.cfg.BaseURL),
		jwt.WithTimeFunc(v.now),
	)
	_, err := p.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			// RFC 7515 §4.1.11: extensions we do not understand make the token invalid;
			// we understand none.
			return nil, errCrit
		}
		iss, _ := t.Claims.GetIssuer()
		return v.keyFor(ctx, t, iss)
	})
	if err != nil {
		return nil, v.explain(err)
	}
	if ferr := v.checkLifetime(&claims); ferr != nil {
		return nil, ferr
	}
	if claims.ID == "" && claims.Issuer == v.cfg.Issuer {
		return nil, unauthorized("access token has no jti")
	}
	g := &Grant{
		ClientID: claims.ClientID, FHIRUser: claims.FHIRUser, Patient: claims.Patient,
		Encounter: claims.Encounter, Subject: claims.Subject, Issuer: claims.Issuer,
		TokenID: claims.ID,
	}
	if claims.ExpiresAt != nil {
		g.Expiry = claims.ExpiresAt.Time
	}
	if claims.IssuedAt != nil {
		g.IssuedAt = claims.IssuedAt.Time
	}
	scope := claims.Scope
	if scope == "" {
		scope = strings.Join(claims.Scp, " ")
	}
	if g.Scopes, g.Other, err = ParseScopes(scope); err != nil {
		return nil, unauthorized("access token scope: %v", err)
	}
	if g.ClientID == "" {
		g.ClientID = claims.Subject
	}
	return g, nil
}

// keyFor finds the verification key: the issuer decides the key source, the kid the
// key; the key's type and curve must fit the header alg.
func (v *Verifier) keyFor(ctx context.Context, t *jwt.Token, iss string) (any, error) {
	alg, _ := t.Header["alg"].(string)
	kid, _ := t.Header["kid"].(string)
	var pk publicKey
	switch {
	case v.keys != nil && iss == v.cfg.Issuer:
		if kid == "" {
			return nil, errNoKID
		}
		key, kalg, err := v.keys.verificationKey(kid, v.reloadEvery)
		if err != nil {
			return nil, err
		}
		pk = publicKey{kid: kid, alg: kalg, key: key}
	case v.remote != nil && iss == v.cfg.ExternalIssuer:
		var err error
		if pk, err = v.remote.key(ctx, kid); err != nil {
			return nil, err
		}
	default:
		return nil, errBadIssuer
	}
	if pk.alg != "" && pk.alg != alg {
		return nil, errAlgMismatch
	}
	if bits, ok := ecdsaCurveBits[alg]; ok {
		ec, isEC := pk.key.(*ecdsa.PublicKey)
		if !isEC || ec.Curve.Params().BitSize != bits {
			return nil, errAlgMismatch
		}
	}
	return pk.key, nil
}

// checkLifetime refuses a token whose lifetime (exp - iat, or exp - nbf, or exp - now
// without either) exceeds the configured maximum: a stolen long-lived token is a
// standing key. Operator tokens of our own issuer (MintToken) may live MaxTokenTTL.
func (v *Verifier) checkLifetime(c *accessClaims) *fhir.Error {
	if c.ExpiresAt == nil {
		return unauthorized("token lacks a required claim (exp)")
	}
	start := v.now()
	switch {
	case c.IssuedAt != nil:
		start = c.IssuedAt.Time
	case c.NotBefore != nil:
		start = c.NotBefore.Time
	}
	limit := v.cfg.MaxLifetime
	if c.Issuer == v.cfg.Issuer && c.ClientID == OperatorClientID && v.keys != nil {
		limit = MaxTokenTTL
	}
	if c.ExpiresAt.Time.Sub(start) > limit+v.cfg.Skew {
		return unauthorized("token lifetime (exp - iat) exceeds the maximum of %s", limit)
	}
	return nil
}

var (
	errCrit        = errors.New("token header has a crit extension")
	errNoKID       = errors.New("token header has no kid")
	errBadIssuer   = errors.New("untrusted issuer")
	errAlgMismatch = errors.New("alg does not match the key")
)

// explain maps a jwt error to a 401 that names the rule broken, never the token.
func (v *Verifier) explain(err error) *fhir.Error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthorized("bearer token is not a JWT")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		switch {
		case errors.Is(err, errBadIssuer):
			return unauthorized("token iss is not a trusted issuer")
		case errors.Is(err, errUnknownKID), errors.Is(err, errNoKID):
			return unauthorized("token kid names no known signing key")
		case errors.Is(err, errAlgMismatch):
			return unauthorized("token alg does not match its key")
		case errors.Is(err, errCrit):
			return unauthorized("token header crit names an extension this server does not understand")
		}
		return unauthorized("token signature cannot be checked")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if strings.Contains(err.Error(), "signing method") {
			return unauthorized("token alg is not one of %s (none and HMAC are refused)", strings.Join(acceptedAlgs, ", "))
		}
		return unauthorized("token signature is invalid")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("token expired (exp)")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthorized("token not valid yet (nbf)")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("token issued in the future (iat)")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauthorized("token aud is not this FHIR server (%s)", v.cfg.BaseURL)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthorized("token lacks a required claim (exp)")
	}
	return unauthorized("token is invalid")
}

// grantCache maps a token's SHA-256 to its verified grant. Only tokens that carry an
// expiry are kept, and only until it; the cache is bounded (cleared when full).
type grantCache struct {
	mu sync.Mutex
	m  map[[32]byte]*Grant
}

// maxCachedGrants bounds the cache.
const maxCachedGrants = 8192

func (c *grantCache) get(raw string, now time.Time) *Grant {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.m[sha256.Sum256([]byte(raw))]
	if g == nil || !now.Before(g.Expiry) {
		return nil
	}
	return g
}

// clear forgets every verified token (the trusted keys changed).
func (c *grantCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

func (c *grantCache) put(raw string, g *Grant) {
	if g.Expiry.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedGrants {
		c.m = map[[32]byte]*Grant{}
	}
	c.m[sha256.Sum256([]byte(raw))] = g
}
