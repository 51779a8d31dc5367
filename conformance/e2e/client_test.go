package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/npmcache"
)

// fhirKitVersion is the real client the walk-through runs with (issue #2).
const fhirKitVersion = "2.0.3"

// installFhirKit installs fhir-kit-client into the test cache (outside the clone)
// unless already there, and returns the path of its ESM entry point.
func installFhirKit(t *testing.T) string {
	t.Helper()
	mods, err := npmcache.Modules("fhir-kit-client", fhirKitVersion)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(mods, "fhir-kit-client", "dist", "index.js")
}

// TestFhirKitClientWalkthrough runs testdata/clients/fhirkit-walkthrough.mjs, which
// drives the gateway with fhir-kit-client: read, vread, create, update, conditional
// update, patch, delete, search with paging, history, batch, transaction. The script
// asserts each step and exits non-zero on the first failure.
func TestFhirKitClientWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is required for the real-client test (Node 20 is on every dev and CI machine)")
	}
	entry := installFhirKit(t)
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(root, "testdata", "clients", "fhirkit-walkthrough.mjs"), g.BaseURL)
	cmd.Env = append(os.Environ(), "FHIRKIT_MODULE="+entry, TokenEnv+"="+g.Token)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("fhir-kit-client walk-through failed: %v", err)
	}
}
