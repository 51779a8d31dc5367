package smart

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// SigningKey is one of the built-in server's key pairs.
type SigningKey struct {
	KID     string
	Alg     string // RS256 or ES256
	Created time.Time
	// Retired is when a newer key replaced this one (zero while active); the key still
	// verifies until Retired+MaxTokenTTL.
	Retired time.Time
	Private crypto.Signer
}

// keyDir is where the keys live under the data directory.
func keyDir(dataDir string) string { return filepath.Join(dataDir, "smart", "keys") }

// Keyset is the built-in server's signing keys, loaded from DataDir/smart/keys.
// Each key is one PKCS#8 PEM file (mode 0600) whose PEM headers carry alg, created and
// retired, so that an operator can read the state with a text editor.
type Keyset struct {
	dir string
	mu  sync.RWMutex
	// keys, newest first.
	keys []*SigningKey
	// lastLoad rate-limits reloads triggered by unknown kids.
	lastLoad time.Time
}

// signingAlgs are the algorithms the built-in server keeps a key for; RS256 is the one
// it signs with (what every SMART client accepts).
var signingAlgs = []string{"RS256", "ES256"}

// OpenKeyset loads the keys under dataDir, creating an RS256 and an ES256 key on first
// run.
func OpenKeyset(dataDir string) (*Keyset, error) {
	ks := &Keyset{dir: keyDir(dataDir)}
	if err := os.MkdirAll(ks.dir, 0o700); err != nil {
		return nil, fmt.Errorf("smart: key directory: %w", err)
	}
	if err := ks.load(); err != nil {
		return nil, err
	}
	for _, alg := range signingAlgs {
		if ks.active(alg) == nil {
			if err := ks.create(alg); err != nil {
				return nil, err
			}
		}
	}
	return ks, ks.load()
}

// RotateKeys creates a fresh key for each algorithm under dataDir, retires the
// previous ones (kept for verification until MaxTokenTTL after retirement) and deletes
// keys retired longer than that. A running server picks the new keys up on the first
// token with an unknown kid.
func RotateKeys(dataDir string) error {
	ks, err := OpenKeyset(dataDir)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, k := range ks.keys {
		switch {
		case k.Retired.IsZero():
			k.Retired = now
			if err := ks.write(k); err != nil {
				return err
			}
		case now.Sub(k.Retired) > MaxTokenTTL+maxSkew:
			if err := os.Remove(filepath.Join(ks.dir, k.KID+".pem")); err != nil {
				return fmt.Errorf("smart: remove expired key: %w", err)
			}
		}
	}
	for _, alg := range signingAlgs {
		if err := ks.create(alg); err != nil {
			return err
		}
	}
	return nil
}

// create generates, writes and adds a key.
func (ks *Keyset) create(alg string) error {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return fmt.Errorf("smart: no key generator for %s", alg)
	}
	if err != nil {
		return fmt.Errorf("smart: generate %s key: %w", alg, err)
	}
	k := &SigningKey{Alg: alg, Created: time.Now().UTC(), Private: priv}
	k.KID, err = thumbprint(priv.Public())
	if err != nil {
		return err
	}
	if err := ks.write(k); err != nil {
		return err
	}
	ks.mu.Lock()
	ks.keys = append([]*SigningKey{k}, ks.keys...)
	ks.mu.Unlock()
	return nil
}

// write stores k as <kid>.pem with mode 0600, atomically.
func (ks *Keyset) write(k *SigningKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return fmt.Errorf("smart: encode key: %w", err)
	}
	h := map[string]string{"alg": k.Alg, "created": k.Created.Format(time.RFC3339Nano)}
	if !k.Retired.IsZero() {
		h["retired"] = k.Retired.Format(time.RFC3339Nano)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: h, Bytes: der})
	tmp, err := os.CreateTemp(ks.dir, ".key-*")
	if err != nil {
		return fmt.Errorf("smart: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("smart: write key: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("smart: write key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("smart: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("smart: write key: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(ks.dir, k.KID+".pem"))
}

// load reads every key file.
func (ks *Keyset) load() error {
	ents, err := os.ReadDir(ks.dir)
	if err != nil {
		return fmt.Errorf("smart: read key directory: %w", err)
	}
	var keys []*SigningKey
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pem") {
			continue
		}
		k, err := readKey(filepath.Join(ks.dir, e.Name()))
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Created.After(keys[j].Created) })
	ks.mu.Lock()
	ks.keys, ks.lastLoad = keys, time.Now()
	ks.mu.Unlock()
	return nil
}

func readKey(path string) (*SigningKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("smart: read key: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("smart: %s is not a PKCS#8 PEM key", filepath.Base(path))
	}
	pk, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("smart: %s: %w", filepath.Base(path), err)
	}
	signer, ok := pk.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("smart: %s: not a signing key", filepath.Base(path))
	}
	k := &SigningKey{Alg: b.Headers["alg"], Private: signer}
	k.Created, _ = time.Parse(time.RFC3339Nano, b.Headers["created"])
	if r := b.Headers["retired"]; r != "" {
		k.Retired, _ = time.Parse(time.RFC3339Nano, r)
	}
	if k.KID, err = thumbprint(signer.Public()); err != nil {
		return nil, err
	}
	return k, nil
}

// active returns the newest non-retired key of alg.
func (ks *Keyset) active(alg string) *SigningKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if k.Alg == alg && k.Retired.IsZero() {
			return k
		}
	}
	return nil
}

// Signer returns the key the built-in server signs tokens with.
func (ks *Keyset) Signer() *SigningKey {
	// pick up a rotation by the CLI within signerReload (what it retired still
	// verifies meanwhile)
	ks.mu.RLock()
	stale := time.Since(ks.lastLoad) > signerReload
	ks.mu.RUnlock()
	if stale {
		_ = ks.load() // on error the keys in memory stay in use
	}
	if k := ks.active("RS256"); k != nil {
		return k
	}
	return ks.active("ES256")
}

// signerReload is how often the signing side rereads the key directory.
const signerReload = 30 * time.Second

// errUnknownKID means no key has that kid, even after a reload.
var errUnknownKID = errors.New("unknown kid")

// verificationKey returns the public key for kid, reloading from disk (at most every
// reloadEvery) when it is unknown, so that a rotation by the CLI reaches a running
// server.
func (ks *Keyset) verificationKey(kid string, reloadEvery time.Duration) (crypto.PublicKey, string, error) {
	if k := ks.find(kid); k != nil {
		return k.Private.Public(), k.Alg, nil
	}
	ks.mu.RLock()
	recent := time.Since(ks.lastLoad) < reloadEvery
	ks.mu.RUnlock()
	// A key just written by "aitgw keys rotate" is on disk under its kid: reload at
	// once, so that tokens it signs verify without waiting for reloadEvery. A forged
	// kid costs a stat, never a reload.
	if recent && ks.onDisk(kid) {
		recent = false
	}
	if !recent {
		if err := ks.load(); err != nil {
			return nil, "", err
		}
		if k := ks.find(kid); k != nil {
			return k.Private.Public(), k.Alg, nil
		}
	}
	return nil, "", errUnknownKID
}

// onDisk reports whether a key file named kid exists (kid is a base64url
// thumbprint; anything else cannot name a file of ours).
func (ks *Keyset) onDisk(kid string) bool {
	if kid == "" || len(kid) > 64 || strings.Trim(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return false
	}
	_, err := os.Stat(filepath.Join(ks.dir, kid+".pem"))
	return err == nil
}

// find returns the still-valid key with kid.
func (ks *Keyset) find(kid string) *SigningKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if k.KID == kid && (k.Retired.IsZero() || time.Since(k.Retired) <= MaxTokenTTL+maxSkew) {
			return k
		}
	}
	return nil
}

// JWKS renders the public keys still valid for verification as a JWK Set.
func (ks *Keyset) JWKS() []byte {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	set := struct {
		Keys []map[string]string `json:"keys"`
	}{Keys: []map[string]string{}}
	for _, k := range ks.keys {
		if !k.Retired.IsZero() && time.Since(k.Retired) > MaxTokenTTL+maxSkew {
			continue
		}
		j := publicJWK(k.Private.Public())
		j["kid"], j["alg"], j["use"] = k.KID, k.Alg, "sig"
		set.Keys = append(set.Keys, j)
	}
	b, _ := json.Marshal(set) // strings only
	return b
}

// publicJWK encodes an RSA or P-256/P-384 public key as JWK members.
func publicJWK(pub crypto.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PublicKey:
		// the uncompressed point 0x04 || X || Y, each coordinate of the curve's size
		point, err := p.Bytes()
		if err != nil || len(point) < 3 || point[0] != 4 {
			return map[string]string{}
		}
		size := (len(point) - 1) / 2
		return map[string]string{"kty": "EC", "crv": p.Curve.Params().Name, "x": b64(point[1 : 1+size]), "y": b64(point[1+size:])}
	}
	return map[string]string{}
}

// thumbprint is the RFC 7638 JWK thumbprint, used as kid.
func thumbprint(pub crypto.PublicKey) (string, error) {
	j := publicJWK(pub)
	var canon string
	switch j["kty"] {
	case "RSA":
		canon = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, j["e"], j["n"])
	case "EC":
		canon = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, j["crv"], j["x"], j["y"])
	default:
		return "", fmt.Errorf("smart: unsupported key type %T", pub)
	}
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}
