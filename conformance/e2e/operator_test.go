package e2e

import (
	"context"
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
