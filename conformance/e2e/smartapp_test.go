package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/npmcache"
)

// npmModule installs an npm package at a pinned version into the user cache (once)
// and returns its node_modules directory.
func npmModule(t *testing.T, pkg, version string) string {
	t.Helper()
	mods, err := npmcache.Modules(pkg, version)
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// aitgw runs the gateway's command line against g.
func aitgw(t *testing.T, g *Gateway, args ...string) []byte {
	t.Helper()
	args = append(args, "--data", g.DataDir, "--base-url", g.BaseURL)
	out, err := exec.Command(binary, args...).Output()
	if err != nil {
		t.Fatalf("aitgw %v: %v %s", args, err, out)
	}
	return out
}

// TestFhirclientLaunchesAgainstGateway: the real SMART JS client (fhirclient 2.6.3,
// Node) runs a standalone launch (patient picker, consent, PKCE, refresh token) and
// an EHR launch (launch minted by "aitgw launch") against the gateway, and reads the
// care plan with the token it got.
func TestFhirclientLaunchesAgainstGateway(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	for path, body := range map[string]string{
		"Patient/p1":       `{"resourceType":"Patient","id":"p1","name":[{"family":"Lambert","given":["Rose"]}]}`,
		"Practitioner/dr1": `{"resourceType":"Practitioner","id":"dr1","name":[{"family":"Martin"}]}`,
		// dr1 is the plan's author: the picker offers only the patients in the user's care
		"CarePlan/cp1": `{"resourceType":"CarePlan","id":"cp1","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},"author":{"reference":"Practitioner/dr1"}}`,
	} {
		if r, err := c.Do("PUT", path, []byte(body), nil); err != nil || r.Status >= 300 {
			t.Fatalf("seed %s: %v %s", path, err, r)
		}
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	out := aitgw(t, g, "clients", "add", "--name", "fhirclient", "--auth", "none", "--redirect-uri", "http://app.local/cb",
		"--scope", "launch launch/patient openid fhirUser offline_access patient/CarePlan.rs patient/Patient.rs")
	if err := json.Unmarshal(out, &reg); err != nil || reg.ClientID == "" {
		t.Fatalf("clients add: %s", out)
	}
	// nobody may use the picker without logging in
	user := exec.Command(binary, "users", "add", "--user", "dr.martin", "--fhir-user", "Practitioner/dr1", "--data", g.DataDir, "--base-url", g.BaseURL)
	user.Env = append(os.Environ(), "AITGW_USER_PASSWORD=correct horse battery")
	if out, err := user.CombinedOutput(); err != nil {
		t.Fatalf("aitgw users add: %v %s", err, out)
	}
	mods := npmModule(t, "fhirclient", "2.6.3")
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "server", "smart", "testdata", "fhirclient_launch.js")
	node := func(password string, args ...string) ([]byte, error) {
		cmd := exec.Command("node", append([]string{script, g.BaseURL}, args...)...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+mods, "SMART_CLIENT_ID="+reg.ClientID,
			"SMART_USER=dr.martin", "SMART_PASSWORD="+password)
		return cmd.CombinedOutput()
	}
	if out, err := node("wrong password!!"); err == nil || !strings.Contains(string(out), "401") {
		t.Errorf("a launch with a wrong password went through: %v %s", err, out)
	}
	run := func(args ...string) map[string]any {
		out, err := node("correct horse battery", args...)
		if err != nil {
			t.Fatalf("fhirclient: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var r map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatalf("fhirclient output %q", out)
		}
		return r
	}
	if r := run(); r["patient"] != "p1" || r["resourceType"] != "Bundle" || r["refresh"] != true {
		t.Errorf("standalone launch: %v", r)
	}
	var launch struct{ Launch string }
	if err := json.Unmarshal(aitgw(t, g, "launch", "--patient", "p1", "--fhir-user", "Practitioner/dr1"), &launch); err != nil || launch.Launch == "" {
		t.Fatal("aitgw launch gave no launch value")
	}
	if r := run(launch.Launch); r["patient"] != "p1" || r["resourceType"] != "Bundle" || r["idToken"] != true {
		t.Errorf("EHR launch: %v", r)
	}
}

// TestBackendServicesWithJose: a backend client written with the jose library
// (Node) signs its own ES384 assertion, gets a system token from the gateway and
// searches with it; replaying the assertion is refused.
func TestBackendServicesWithJose(t *testing.T) {
	g := startGateway(t)
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	b64 := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.FillBytes(make([]byte, 48))) }
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-384", "kid": "k1", "alg": "ES384", "use": "sig", "x": b64(key.X), "y": b64(key.Y)}}})
	jwksFile := filepath.Join(dir, "jwks.json")
	os.WriteFile(jwksFile, jwks, 0o600)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	out := aitgw(t, g, "clients", "add", "--name", "hub", "--auth", "private_key_jwt", "--jwks", jwksFile, "--scope", "system/Patient.rs")
	if err := json.Unmarshal(out, &reg); err != nil || reg.ClientID == "" {
		t.Fatalf("clients add: %s", out)
	}
	mods := npmModule(t, "jose", "5.9.6")
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "testdata", "clients", "backend-services.mjs"), g.BaseURL, reg.ClientID, keyFile, "k1")
	cmd.Env = append(os.Environ(), "JOSE_MODULE="+filepath.Join(mods, "jose", "dist", "node", "esm", "index.js"))
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("backend services client: %v\n%s", err, res)
	}
	if !strings.Contains(string(res), `"scope":"system/Patient.rs"`) {
		t.Errorf("token scope: %s", res)
	}
}
