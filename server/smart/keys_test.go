package smart

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestKeysCreatedPrivateAndRotated(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{BaseURL: "http://127.0.0.1:8080/fhir", DataDir: dir, BuiltIn: true}
	old, err := MintToken(dir, cfg, "system/*.rs", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "smart", "keys", "*.pem"))
	if len(files) != 2 {
		t.Fatalf("want RS256 + ES256 keys, got %v", files)
	}
	for _, f := range files {
		if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, st.Mode().Perm())
		}
	}
	v, err := NewVerifier(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	v.reloadEvery = 0 // see the rotation at once
	g, err := v.Verify(t.Context(), old)
	if err != nil || g.ClientID != OperatorClientID || !g.Allows(InteractionSearch, "CarePlan") {
		t.Fatalf("minted token: %v %+v", err, g)
	}
	if err := RotateKeys(dir); err != nil {
		t.Fatal(err)
	}
	fresh, err := MintToken(dir, cfg, "system/*.rs", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if kid(t, fresh) == kid(t, old) {
		t.Fatal("rotation kept the signing key")
	}
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}
	ks, _ := OpenKeyset(dir)
	var set struct{ Keys []map[string]string }
	_ = json.Unmarshal(ks.JWKS(), &set)
	if len(set.Keys) != 4 || set.Keys[0]["kid"] == "" || set.Keys[0]["d"] != "" {
		t.Errorf("JWKS after rotation: %v", set.Keys)
	}
	if _, err := MintToken(dir, cfg, "system/*.rs", 48*time.Hour); err == nil {
		t.Error("ttl beyond MaxTokenTTL accepted")
	}
}

func kid(t *testing.T, tok string) string {
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var m map[string]any
	_ = json.Unmarshal(h, &m)
	return m["kid"].(string)
}

// TestExternalIssuer: tokens of an external IdP verify through its JWKS URL, fetched
// once, refetched on a new kid only after the rate limit.
func TestExternalIssuer(t *testing.T) {
	key, set := clientKey(t)
	fetches := 0
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches++
		w.Write(set)
	}))
	defer idp.Close()
	v, err := NewVerifier(Config{BaseURL: "https://gw.example/fhir", ExternalIssuer: "https://idp.example", JWKSURL: idp.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{"iss": "https://idp.example", "aud": "https://gw.example/fhir",
			"exp": time.Now().Add(time.Minute).Unix(), "scp": []string{"user/CarePlan.rs"}, "sub": "u1", "fhirUser": "Practitioner/1"})
		tok.Header["kid"] = kid
		s, _ := tok.SignedString(key)
		return s
	}
	for range 3 {
		g, err := v.Verify(t.Context(), mk("backend-1"))
		if err != nil || !g.Allows(InteractionRead, "CarePlan") || g.FHIRUser != "Practitioner/1" {
			t.Fatalf("%v %+v", err, g)
		}
	}
	for range 3 {
		if _, err := v.Verify(t.Context(), mk("forged")); err == nil {
			t.Fatal("unknown kid accepted")
		}
	}
	if fetches != 1 {
		t.Errorf("JWKS fetched %d times, want 1: unknown kids within the rate limit must not refetch", fetches)
	}
	v.remote.fetched = time.Now().Add(-v.remote.minInterval) // the limit has passed
	if _, err := v.Verify(t.Context(), mk("forged")); err == nil || fetches != 2 {
		t.Errorf("after the limit: err %v, %d fetches (want one refetch)", err, fetches)
	}
}

func TestClientSecretBasicRefresh(t *testing.T) {
	e := newEnv(t)
	if err := AddClient(t.Context(), e.kv, Client{ID: "conf", Type: ClientConfidentialSymmetric, Secret: "0123456789abcdefXYZ",
		RedirectURIs: []string{"https://c.example/cb"}, Scope: "user/*.rs"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := e.kv.Get(t.Context(), nsClients, "conf")
	if strings.Contains(string(raw), "0123456789abcdefXYZ") {
		t.Fatal("secret stored in clear")
	}
	f := map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}
	if st, body := postForm(t, e.srv.URL+"/auth/token", f, []string{"conf", "wrong-secret"}); st != 401 || body["error"] != "invalid_client" {
		t.Errorf("bad secret: %d %v", st, body)
	}
	if st, body := postForm(t, e.srv.URL+"/auth/token", f, []string{"conf", "0123456789abcdefXYZ"}); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("good secret, bad refresh token: %d %v", st, body)
	}
}
