package smart

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config configures the resource server and the built-in authorization server.
type Config struct {
	// BaseURL is the FHIR base (e.g. http://127.0.0.1:8080/fhir): the required "aud" of
	// access tokens and the prefix of the routes the middleware protects.
	BaseURL string
	// Issuer is the built-in server's "iss"; defaults to the origin of BaseURL.
	Issuer string
	// DataDir holds the signing keys under DataDir/smart/keys.
	DataDir string
	// ExternalIssuer and JWKSURL trust an external identity provider's tokens.
	ExternalIssuer string
	JWKSURL        string
	// BuiltIn enables the embedded authorization server (and trusts its tokens).
	BuiltIn bool
	// Skew is the clock tolerance on exp/nbf/iat; defaults to 60 s, at most 5 min.
	Skew time.Duration
	// AccessTTL is the lifetime of access tokens the built-in server issues (default
	// 15 min).
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens (default 30 days).
	RefreshTTL time.Duration
	// MaxLifetime is the longest lifetime (exp - iat) a verified access token may
	// claim (default 1 h); tokens minted by the host's operator (MintToken) may reach
	// MaxTokenTTL. A token without exp is refused.
	MaxLifetime time.Duration
	// JWKSRefresh is how often the external issuer's JWK Set is refetched, so that a
	// key it withdraws stops being trusted (default 5 min).
	JWKSRefresh time.Duration
}

// Defaults of Config.
const (
	DefaultSkew       = 60 * time.Second
	maxSkew           = 5 * time.Minute
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 30 * 24 * time.Hour
	// DefaultMaxLifetime bounds the lifetime of the access tokens the verifier accepts.
	DefaultMaxLifetime = time.Hour
	// DefaultJWKSRefresh is how often an external issuer's JWK Set is refetched.
	DefaultJWKSRefresh = 5 * time.Minute
	// MaxTokenTTL bounds every access token (MintToken included); retired signing keys
	// are kept this long so that tokens they signed still verify.
	MaxTokenTTL = 24 * time.Hour
)

// normalize checks c and fills defaults.
func (c Config) normalize() (Config, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return c, fmt.Errorf("smart: BaseURL %q must be an absolute URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.Issuer == "" {
		c.Issuer = u.Scheme + "://" + u.Host
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.Skew <= 0 {
		c.Skew = DefaultSkew
	}
	if c.Skew > maxSkew {
		c.Skew = maxSkew
	}
	if c.AccessTTL <= 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.AccessTTL > MaxTokenTTL {
		c.AccessTTL = MaxTokenTTL
	}
	if c.MaxLifetime <= 0 {
		c.MaxLifetime = DefaultMaxLifetime
	}
	if c.MaxLifetime > MaxTokenTTL {
		c.MaxLifetime = MaxTokenTTL
	}
	if c.AccessTTL > c.MaxLifetime {
		c.AccessTTL = c.MaxLifetime
	}
	if c.JWKSRefresh <= 0 {
		c.JWKSRefresh = DefaultJWKSRefresh
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if !c.BuiltIn && c.JWKSURL == "" {
		return c, fmt.Errorf("smart: neither the built-in server nor an external JWKSURL is configured")
	}
	if c.JWKSURL != "" && c.ExternalIssuer == "" {
		return c, fmt.Errorf("smart: JWKSURL needs ExternalIssuer")
	}
	if c.BuiltIn && c.DataDir == "" {
		return c, fmt.Errorf("smart: the built-in server needs DataDir for its keys")
	}
	return c, nil
}

// basePath is the path of BaseURL ("/fhir").
func (c Config) basePath() string {
	u, _ := url.Parse(c.BaseURL)
	return strings.TrimSuffix(u.Path, "/")
}

// Endpoint URLs of the built-in server.
func (c Config) authorizeURL() string { return c.Issuer + "/auth/authorize" }

// TokenURL is the token endpoint: the "aud" of client assertions.
func (c Config) TokenURL() string    { return c.Issuer + "/auth/token" }
func (c Config) jwksURL() string     { return c.Issuer + "/auth/jwks" }
func (c Config) registerURL() string { return c.Issuer + "/auth/register" }

// Endpoints of token introspection (RFC 7662), revocation (RFC 7009) and OpenID
// userinfo.
func (c Config) introspectURL() string { return c.Issuer + "/auth/introspect" }
func (c Config) revokeURL() string     { return c.Issuer + "/auth/revoke" }
func (c Config) userinfoURL() string   { return c.Issuer + "/auth/userinfo" }
