package smart

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/npmcache"
)

// fhirclientVersion is the SMART JS client the proof of the issue names.
const fhirclientVersion = "2.6.3"

// installFhirclient installs fhirclient into the per-user test cache (once) and
// returns the node_modules directory for NODE_PATH.
func installFhirclient(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: the fhirclient interoperability test cannot run (apt-get install nodejs npm)", tool)
		}
	}
	mods, err := npmcache.Modules("fhirclient", fhirclientVersion)
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// runFhirclient runs testdata/fhirclient_launch.js against e and decodes its result.
func runFhirclient(t *testing.T, e *testEnv, mods string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command("node", append([]string{"testdata/fhirclient_launch.js", e.cfg.BaseURL}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("fhirclient: %v\n%s%s", err, out, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(out))), &r); err != nil {
		t.Fatalf("fhirclient output %q: %v", out, err)
	}
	return r
}

// TestFhirclientLaunch: the real SMART JS client does a standalone launch (picker,
// consent, PKCE) and an EHR launch, then reads CarePlan through the middleware.
func TestFhirclientLaunch(t *testing.T) {
	mods := installFhirclient(t)
	e := newEnv(t)
	if err := AddClient(t.Context(), e.kv, Client{ID: "fhirclient-test", Name: "fhirclient", Type: ClientPublic,
		RedirectURIs: []string{"http://app.local/cb"},
		Scope:        "launch launch/patient openid fhirUser offline_access patient/CarePlan.rs patient/Patient.rs"}); err != nil {
		t.Fatal(err)
	}
	t.Run("standalone", func(t *testing.T) {
		r := runFhirclient(t, e, mods)
		if r["patient"] != "p1" || r["resourceType"] != "Bundle" || r["refresh"] != true {
			t.Errorf("result %v", r)
		}
	})
	t.Run("ehr", func(t *testing.T) {
		launch, err := e.auth.MintLaunch(t.Context(), LaunchContext{Patient: "p2", FHIRUser: "Practitioner/dr1"})
		if err != nil {
			t.Fatal(err)
		}
		r := runFhirclient(t, e, mods, launch)
		if r["patient"] != "p2" || r["resourceType"] != "Bundle" || r["idToken"] != true {
			t.Errorf("result %v", r)
		}
	})
}
