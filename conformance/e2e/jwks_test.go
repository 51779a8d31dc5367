package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestExternalIssuerKeyWithdrawn: the JWKS of an external identity provider is
// refetched on a timer (--jwks-refresh), so that a key it withdraws stops being
// trusted, although the gateway already verified tokens signed with it and never saw
// an unknown kid.
func TestExternalIssuerKeyWithdrawn(t *testing.T) {
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := func(k *rsa.PrivateKey, kid string) []byte {
		b64 := base64.RawURLEncoding.EncodeToString
		b, _ := json.Marshal(map[string]any{"keys": []any{map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
			"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}}})
		return b
	}
	var current atomic.Value
	current.Store(jwks(k1, "k1"))
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(current.Load().([]byte))
	}))
	defer idp.Close()
	g, err := Start(context.Background(), binary, t.TempDir(), "--issuer", "https://idp.example",
		"--issuer-jwks-url", idp.URL, "--jwks-refresh", "1s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://idp.example", "aud": g.BaseURL,
		"sub": "hub", "client_id": "hub", "scope": "system/*.rs", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "j1"})
	tok.Header["kid"] = "k1"
	raw, _ := tok.SignedString(k1)
	if st := read(t, g, raw, "Patient"); st != 200 {
		t.Fatalf("token of the issuer's key: %d", st)
	}
	current.Store(jwks(k2, "k2")) // the issuer withdraws k1
	deadline := time.Now().Add(10 * time.Second)
	for read(t, g, raw, "Patient") == 200 {
		if time.Now().After(deadline) {
			t.Fatal("a key the issuer withdrew is still trusted 10 s later (refresh every 1 s)")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
