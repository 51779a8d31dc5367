package smart

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ClientType is how a client authenticates at the token endpoint.
type ClientType string

// Client types (SMART capabilities client-public, client-confidential-symmetric,
// client-confidential-asymmetric).
const (
	ClientPublic                 ClientType = "public"                  // PKCE only
	ClientConfidentialSymmetric  ClientType = "confidential-symmetric"  // client_secret_basic
	ClientConfidentialAsymmetric ClientType = "confidential-asymmetric" // private_key_jwt
)

// Client is a registered SMART client.
type Client struct {
	ID           string     `json:"client_id"`
	Name         string     `json:"client_name,omitempty"`
	Type         ClientType `json:"type"`
	RedirectURIs []string   `json:"redirect_uris,omitempty"`
	// JWKS (a JWK Set) or JWKSURL holds an asymmetric client's public keys.
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURL string          `json:"jwks_uri,omitempty"`
	// Scope is the space-separated scopes the client may be granted; requests are cut
	// down to what these cover.
	Scope string `json:"scope"`
	// Secret is input only (AddClient hashes it into SecretSHA256).
	Secret       string    `json:"-"`
	SecretSHA256 string    `json:"secret_sha256,omitempty"`
	Created      time.Time `json:"created"`
}

// KV namespaces of the authorization server.
const (
	nsClients  = "smart.clients"
	nsLaunch   = "smart.launch"
	nsAuthReq  = "smart.authreq"
	nsCodes    = "smart.codes"
	nsCodeUsed = "smart.codes.used"
	nsRefresh  = "smart.refresh"
	nsJTI      = "smart.jti"
)

// AddClient validates c and stores it (replacing a client with the same id). A
// symmetric client's Secret is stored only as its SHA-256 (secrets are generated, high
// entropy: a slow hash adds nothing).
func AddClient(ctx context.Context, kv KV, c Client) error {
	if c.ID == "" || strings.ContainsAny(c.ID, " \t\r\n") {
		return errors.New("smart: client id is required and has no spaces")
	}
	if _, _, err := ParseScopes(c.Scope); err != nil {
		return fmt.Errorf("smart: client %s: %w", c.ID, err)
	}
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return fmt.Errorf("smart: client %s: redirect URI %q must be absolute, without fragment", c.ID, r)
		}
	}
	switch c.Type {
	case ClientPublic:
		if len(c.RedirectURIs) == 0 {
			return fmt.Errorf("smart: public client %s needs a redirect URI", c.ID)
		}
	case ClientConfidentialSymmetric:
		if c.Secret == "" && c.SecretSHA256 == "" {
			return fmt.Errorf("smart: client %s: a secret is required", c.ID)
		}
		if c.Secret != "" {
			if len(c.Secret) < 16 {
				return fmt.Errorf("smart: client %s: secret shorter than 16 characters", c.ID)
			}
			sum := sha256.Sum256([]byte(c.Secret))
			c.SecretSHA256, c.Secret = hex.EncodeToString(sum[:]), ""
		}
	case ClientConfidentialAsymmetric:
		if (len(c.JWKS) == 0) == (c.JWKSURL == "") {
			return fmt.Errorf("smart: client %s: give exactly one of JWKS and JWKS URL", c.ID)
		}
		if len(c.JWKS) > 0 {
			keys, err := parseJWKS(c.JWKS)
			if err != nil || len(keys) == 0 {
				return fmt.Errorf("smart: client %s: JWKS holds no usable RSA/EC public key", c.ID)
			}
			if bytesContainPrivate(c.JWKS) {
				return fmt.Errorf("smart: client %s: JWKS contains a private key", c.ID)
			}
		}
	default:
		return fmt.Errorf("smart: client %s: type must be public, confidential-symmetric or confidential-asymmetric", c.ID)
	}
	if c.Created.IsZero() {
		c.Created = time.Now().UTC()
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return putAccount(ctx, kv, nsClients, c.ID, b)
}

// bytesContainPrivate reports a JWK Set with a private member ("d").
func bytesContainPrivate(set []byte) bool {
	var s struct {
		Keys []jwk `json:"keys"`
	}
	_ = json.Unmarshal(set, &s)
	for _, k := range s.Keys {
		if k.D != "" {
			return true
		}
	}
	return false
}

// GetClient loads a client; nil when unknown.
func GetClient(ctx context.Context, kv KV, id string) (*Client, error) {
	b, err := kv.Get(ctx, nsClients, id)
	if err != nil || b == nil {
		return nil, err
	}
	var c Client
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("smart: client record %s: %w", id, err)
	}
	return &c, nil
}

// checkSecret compares a presented secret with the stored hash in constant time.
func (c *Client) checkSecret(secret string) bool {
	want, err := hex.DecodeString(c.SecretSHA256)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(want, got[:]) == 1
}

// redirectAllowed is an exact match against the registered URIs (no prefix games).
func (c *Client) redirectAllowed(u string) bool { return slices.Contains(c.RedirectURIs, u) }

// grantable cuts requested down to what the client's registered scopes cover.
// Resource scopes are kept when covered; other scopes when listed.
func (c *Client) grantable(requested string) (string, error) {
	allowed, allowedOther, err := ParseScopes(c.Scope)
	if err != nil {
		return "", err
	}
	req, other, err := ParseScopes(requested)
	if err != nil {
		return "", err
	}
	var out []string
	for _, r := range req {
		for _, a := range allowed {
			if a.Covers(r) {
				out = append(out, r.Raw)
				break
			}
		}
	}
	for _, o := range other {
		if slices.Contains(allowedOther, o) && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return strings.Join(out, " "), nil
}
