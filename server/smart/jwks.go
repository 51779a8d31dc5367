package smart

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// jwk is one JSON Web Key as found in a JWK Set.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	// D is read only to refuse sets that leak private keys.
	D string `json:"d"`
}

// publicKey is a parsed verification key.
type publicKey struct {
	kid string
	alg string // "" when the JWK does not pin it
	key crypto.PublicKey
}

// parseJWKS parses a JWK Set, keeping the RSA and EC signature keys. Symmetric keys
// are dropped: HMAC is never accepted.
func parseJWKS(data []byte) ([]publicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWK Set is not valid JSON: %w", err)
	}
	var out []publicKey
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pk, err := k.public()
		if err != nil {
			continue // an unusable key does not spoil the set
		}
		out = append(out, publicKey{kid: k.Kid, alg: k.Alg, key: pk})
	}
	return out, nil
}

func (k jwk) public() (crypto.PublicKey, error) {
	dec := base64.RawURLEncoding.DecodeString
	switch k.Kty {
	case "RSA":
		n, err1 := dec(k.N)
		e, err2 := dec(k.E)
		if err1 != nil || err2 != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA key (2048 bits at least)")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "EC":
		var c elliptic.Curve
		switch k.Crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		default:
			return nil, errors.New("unsupported curve")
		}
		x, err1 := dec(k.X)
		y, err2 := dec(k.Y)
		if err1 != nil || err2 != nil {
			return nil, errors.New("bad EC key")
		}
		size := (c.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, errors.New("bad EC key")
		}
		// Validate the point through the uncompressed encoding (rejects off-curve points).
		raw := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, raw)
		if err != nil {
			return nil, errors.New("EC point not on curve")
		}
		return pub, nil
	}
	return nil, errors.New("unsupported key type")
}

// selectKey picks the key for kid (or the only key when the token names none).
func selectKey(keys []publicKey, kid string) (publicKey, bool) {
	if kid == "" {
		if len(keys) == 1 {
			return keys[0], true
		}
		return publicKey{}, false
	}
	for _, k := range keys {
		if k.kid == kid {
			return k, true
		}
	}
	return publicKey{}, false
}

// remoteJWKS caches the JWK Set at a URL, refetching when a kid is unknown at most
// once per minInterval, so that forged kids cannot make us hammer the issuer.
type remoteJWKS struct {
	url         string
	client      *http.Client
	minInterval time.Duration

	// maxAge, when set, is how long a fetched set is trusted before it is fetched
	// again (refreshIfStale): a key the issuer withdraws stops being trusted.
	maxAge time.Duration
	// onChange is called when a refetch changes the set of kids.
	onChange func()

	mu      sync.Mutex
	keys    []publicKey
	fetched time.Time
}

// refreshIfStale refetches the set when it is older than maxAge. The fetch runs
// outside the lock (the current keys stay in use meanwhile); a failed fetch keeps
// them, and is retried after maxAge again.
func (r *remoteJWKS) refreshIfStale(ctx context.Context) {
	r.mu.Lock()
	if r.maxAge <= 0 || r.fetched.IsZero() || time.Since(r.fetched) < r.maxAge {
		r.mu.Unlock()
		return
	}
	r.fetched = time.Now() // one refresher at a time
	r.mu.Unlock()
	keys, err := fetchJWKS(ctx, r.client, r.url)
	if err != nil {
		return
	}
	r.mu.Lock()
	changed := !sameKIDs(r.keys, keys)
	r.keys = keys
	r.mu.Unlock()
	if changed && r.onChange != nil {
		r.onChange()
	}
}

// sameKIDs reports whether two sets hold the same kids.
func sameKIDs(a, b []publicKey) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, k := range a {
		seen[k.kid]++
	}
	for _, k := range b {
		seen[k.kid]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func newRemoteJWKS(url string, client *http.Client, minInterval time.Duration) *remoteJWKS {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &remoteJWKS{url: url, client: client, minInterval: minInterval}
}

// key returns the key for kid, fetching the set when needed.
func (r *remoteJWKS) key(ctx context.Context, kid string) (publicKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := selectKey(r.keys, kid); ok {
		return k, nil
	}
	if !r.fetched.IsZero() && time.Since(r.fetched) < r.minInterval {
		return publicKey{}, errUnknownKID
	}
	r.fetched = time.Now()
	keys, err := fetchJWKS(ctx, r.client, r.url)
	if err != nil {
		return publicKey{}, err
	}
	changed := r.keys != nil && !sameKIDs(r.keys, keys)
	r.keys = keys
	if changed && r.onChange != nil {
		r.onChange() // the grant cache's lock never waits on r.mu
	}
	if k, ok := selectKey(r.keys, kid); ok {
		return k, nil
	}
	return publicKey{}, errUnknownKID
}

// fetchJWKS downloads and parses a JWK Set (at most 1 MB).
func fetchJWKS(ctx context.Context, client *http.Client, url string) ([]publicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	return parseJWKS(data)
}
