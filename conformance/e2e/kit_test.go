package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// TestKitRunAgainstGateway runs "aitgw kit run" against the real binary, as an EHR
// vendor would against any gateway: it exits 0, and writes a JUnit XML report (every
// scenario, no failure) and an HTML report with one line per check, its rule's source
// and section, the request and the response.
func TestKitRunAgainstGateway(t *testing.T) {
	g := startGateway(t)
	dir := t.TempDir()
	token := tokenFor(t, g, "system/*.cruds", "")
	junit, page := filepath.Join(dir, "kit.xml"), filepath.Join(dir, "kit.html")
	out, err := exec.Command(binary, "kit", "run", "--base", g.BaseURL, "--token", token, "--junit", junit, "--html", page).CombinedOutput()
	if err != nil {
		t.Errorf("aitgw kit run: %v\n%s", err, out)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &report); err != nil {
		t.Fatalf("JUnit report: %v", err)
	}
	names, tests := map[string]bool{}, 0
	for _, s := range report.Suites {
		names[s.Name] = true
		tests += s.Tests
		for _, c := range s.Cases {
			if c.Failure != nil {
				t.Errorf("kit check failed: %s: %s", c.Name, c.Failure.Message)
			}
		}
	}
	for _, want := range []string{"referral", "AIT pathway", "bad input", "identity"} {
		if !names[want] {
			t.Errorf("the report has no %q scenario: %v", want, names)
		}
	}
	if tests < 30 {
		t.Errorf("%d checks, want the referral, every AIT step and its CarePlan, and the refusals", tests)
	}
	h, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(h), "<tr class=") != tests || !strings.Contains(string(h), "Référentiel régional AIT") {
		t.Errorf("the HTML report does not have one line per check with its source")
	}
}

// TestKitRunWithBackendServices: the kit gets its token itself by SMART Backend
// Services (a client registered with private_key_jwt), and passes.
func TestKitRunWithBackendServices(t *testing.T) {
	g := startGateway(t)
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	b64 := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.FillBytes(make([]byte, 48))) }
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-384", "kid": "kit", "alg": "ES384", "use": "sig", "x": b64(key.X), "y": b64(key.Y)}}})
	jwksFile := filepath.Join(dir, "jwks.json")
	os.WriteFile(jwksFile, jwks, 0o600)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	out := aitgw(t, g, "clients", "add", "--name", "ehr-kit", "--auth", "private_key_jwt", "--jwks", jwksFile, "--scope", "system/*.cruds")
	if err := json.Unmarshal(out, &reg); err != nil || reg.ClientID == "" {
		t.Fatalf("clients add: %s", out)
	}
	res, err := exec.Command(binary, "kit", "run", "--base", g.BaseURL, "--client-id", reg.ClientID, "--key", keyFile, "--kid", "kit",
		"--junit", filepath.Join(dir, "kit.xml"), "--html", filepath.Join(dir, "kit.html")).CombinedOutput()
	if err != nil || !strings.Contains(string(res), "0 failed") {
		t.Errorf("aitgw kit run with backend services: %v\n%s", err, res)
	}
}

// TestKitRunOnRedis: the kit passes against a gateway keeping its data in Redis: the
// pathway state, the gateway's own record, lives in the store's auxiliary records
// there and commits with each step.
func TestKitRunOnRedis(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379: %v", err)
	}
	prefix := fmt.Sprintf("aitgw-kit-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	dir := t.TempDir()
	g, err := Start(ctx, binary, dir, "--redis", "redis://127.0.0.1:6379/0", "--redis-prefix", prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	token := tokenFor(t, g, "system/*.cruds", "")
	out, err := exec.Command(binary, "kit", "run", "--base", g.BaseURL, "--token", token,
		"--junit", filepath.Join(dir, "kit.xml"), "--html", filepath.Join(dir, "kit.html")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "0 failed") {
		b, _ := os.ReadFile(filepath.Join(dir, "kit.xml"))
		t.Errorf("aitgw kit run on Redis: %v\n%s\n%s", err, out, tail(string(b), 3000))
	}
}
