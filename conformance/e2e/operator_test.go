package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestOperatorCommandsFindTheirGateway: an operator command learns where the gateway
// listens from what serve recorded under --data, so that a token is always minted
// with the keys of the gateway it is meant for; pointed at a data directory no
// gateway used, or at a gateway that uses another data directory, it refuses and
// says exactly that (it used to mint a token with stray keys, which the gateway then
// refused as "not a trusted issuer", or to say "insufficient_scope").
func TestOperatorCommandsFindTheirGateway(t *testing.T) {
	a := startGateway(t)
	b, err := Start(context.Background(), binary, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)

	// the recorded address: no --addr or --base-url needed, and the token works
	out, err := exec.Command(binary, "token", "--data", a.DataDir, "--scope", "system/Patient.rs").CombinedOutput()
	if err != nil {
		t.Fatalf("token with only --data: %v %s", err, out)
	}
	c := a.Client()
	c.Token = strings.TrimSpace(string(out))
	if r, err := c.Do("GET", "/Patient", nil, nil); err != nil || r.Status != 200 {
		t.Fatalf("the minted token is refused by its gateway: %v %v", r, err)
	}

	stray := t.TempDir()
	for _, args := range [][]string{
		{"token", "--data", stray},
		{"clients", "add", "--data", stray, "--name", "x", "--scope", "system/*.rs"},
		{"keys", "rotate", "--data", stray},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no gateway has run with --data") {
			t.Errorf("aitgw %s with a data directory no gateway used: err=%v %s", strings.Join(args[:2], " "), err, out)
		}
	}

	// gateway B's address with gateway A's data directory: another gateway answers
	addrB := strings.TrimPrefix(strings.TrimSuffix(b.BaseURL, "/fhir"), "http://")
	out, err = exec.Command(binary, "clients", "add", "--data", a.DataDir, "--addr", addrB, "--name", "x", "--scope", "system/*.rs").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is not the one that uses --data") {
		t.Errorf("clients add at another gateway's address: err=%v %s", err, out)
	}

	// help: each command lists its own flags only, and help exits 0
	out, err = exec.Command(binary, "help", "token").CombinedOutput()
	if err != nil || strings.Contains(string(out), "-smtp-relay") || !strings.Contains(string(out), "-scope") {
		t.Errorf("aitgw help token: err=%v %s", err, out)
	}
	if out, err := exec.Command(binary, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "version ") {
		t.Errorf("aitgw --help: err=%v %s", err, out)
	}
	if out, err := exec.Command(binary, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "aitgw ") {
		t.Errorf("aitgw version: err=%v %s", err, out)
	}
}

// TestOperatorCommandsCheckWhatTheyName: "users add" refuses a fhirUser and
// "launch" a patient that do not exist, and "notify dead-letters" with none says so
// in words (it printed "null").
func TestOperatorCommandsCheckWhatTheyName(t *testing.T) {
	g := startGateway(t)
	cmd := exec.Command(binary, "users", "add", "--data", g.DataDir, "--user", "dr.nobody", "--fhir-user", "Practitioner/does-not-exist")
	cmd.Env = append(cmd.Environ(), "AITGW_USER_PASSWORD=a-long-enough-password")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "does not exist") {
		t.Errorf("users add with a missing Practitioner: err=%v %s", err, out)
	}
	if out, err := exec.Command(binary, "launch", "--data", g.DataDir, "--patient", "does-not-exist").CombinedOutput(); err == nil || !strings.Contains(string(out), "does not exist") {
		t.Errorf("launch with a missing patient: err=%v %s", err, out)
	}
	out, err := exec.Command(binary, "notify", "dead-letters", "--data", g.DataDir).CombinedOutput()
	if err != nil || strings.Contains(string(out), "null") || !strings.Contains(string(out), "no dead-lettered notification") {
		t.Errorf("notify dead-letters with none: err=%v %s", err, out)
	}
}

// TestOperatorListsAndRemovesAccounts: users and clients can be listed and removed,
// and "users add" does not replace an existing account without --replace.
func TestOperatorListsAndRemovesAccounts(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	r, err := c.Do("POST", "/Practitioner", []byte(`{"resourceType":"Practitioner","name":[{"family":"Lenoir"}]}`), nil)
	if err != nil || r.Status != 201 {
		t.Fatalf("create Practitioner: %v %v", r, err)
	}
	var pr struct{ ID string }
	_ = json.Unmarshal(r.Body, &pr)
	add := func(extra ...string) ([]byte, error) {
		cmd := exec.Command(binary, append([]string{"users", "add", "--data", g.DataDir, "--user", "dr.lenoir", "--fhir-user", "Practitioner/" + pr.ID}, extra...)...)
		cmd.Env = append(cmd.Environ(), "AITGW_USER_PASSWORD=a-long-enough-password")
		return cmd.CombinedOutput()
	}
	if out, err := add(); err != nil {
		t.Fatalf("users add: %v %s", err, out)
	}
	if out, err := add(); err == nil || !strings.Contains(string(out), "--replace") {
		t.Errorf("users add over an existing account without --replace: err=%v %s", err, out)
	}
	if out, err := add("--replace"); err != nil {
		t.Errorf("users add --replace: %v %s", err, out)
	}
	out, err := exec.Command(binary, "users", "list", "--data", g.DataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"dr.lenoir"`) || strings.Contains(string(out), "hash") {
		t.Errorf("users list: err=%v %s", err, out)
	}
	if out, err := exec.Command(binary, "users", "remove", "--data", g.DataDir, "--user", "dr.lenoir").CombinedOutput(); err != nil {
		t.Errorf("users remove: %v %s", err, out)
	}
	out, _ = exec.Command(binary, "users", "list", "--data", g.DataDir).CombinedOutput()
	if strings.Contains(string(out), "dr.lenoir") {
		t.Errorf("a removed user is still listed: %s", out)
	}

	out, err = exec.Command(binary, "clients", "add", "--data", g.DataDir, "--name", "Hub test", "--auth", "private_key_jwt", "--jwks-url", "https://hub.example/jwks", "--scope", "system/*.rs").CombinedOutput()
	if err != nil {
		t.Fatalf("clients add: %v %s", err, out)
	}
	var cl struct {
		ID string `json:"client_id"`
	}
	_ = json.Unmarshal(out, &cl)
	out, err = exec.Command(binary, "clients", "list", "--data", g.DataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), cl.ID) || cl.ID == "" {
		t.Errorf("clients list: err=%v %s", err, out)
	}
	if out, err := exec.Command(binary, "clients", "remove", "--data", g.DataDir, "--id", cl.ID).CombinedOutput(); err != nil {
		t.Errorf("clients remove: %v %s", err, out)
	}
	out, _ = exec.Command(binary, "clients", "list", "--data", g.DataDir).CombinedOutput()
	if strings.Contains(string(out), cl.ID) {
		t.Errorf("a removed client is still listed: %s", out)
	}
}
