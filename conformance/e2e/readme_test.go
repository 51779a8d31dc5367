package e2e

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shBlock is a shell block of the README.
var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// TestReadmeWalkthroughRuns extracts the shell blocks of the README's walk-through
// ("A walk through with curl", up to the operators' commands) and runs them, as
// written, from the repository's root against a started gateway: only its address is
// the test gateway's, "go run ./cmd/aitgw" is the built binary, and every curl fails
// on an HTTP error (--fail-with-body). Every file the walk-through names must exist.
func TestReadmeWalkthroughRuns(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if out, err := exec.Command("apt-get", "install", "-y", tool).CombinedOutput(); err != nil {
				t.Fatalf("%s is needed and could not be installed: %v %s", tool, err, out)
			}
		}
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## A walk through with curl")
	end := strings.Index(text, "Operators (each signs")
	if start < 0 || end < start {
		t.Fatal("README: no walk-through section")
	}
	blocks := shBlock.FindAllStringSubmatch(text[start:end], -1)
	if len(blocks) < 2 {
		t.Fatalf("README walk-through: %d shell blocks", len(blocks))
	}
	g := startGateway(t)
	u, _ := url.Parse(g.BaseURL)
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	script.WriteString(`go() { if [ "$1" = run ] && [ "$2" = ./cmd/aitgw ]; then shift 2; "$AITGW_TEST_BIN" "$@"; else command go "$@"; fi; }` + "\n")
	script.WriteString(`curl() { command curl --fail-with-body "$@"; }` + "\n")
	for _, b := range blocks {
		script.WriteString(strings.ReplaceAll(b[1], "http://127.0.0.1:8080", u.Scheme+"://"+u.Host))
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AITGW_DATA="+g.DataDir, "AITGW_BASE_URL="+g.BaseURL, "AITGW_TEST_BIN="+binary)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README walk-through failed: %v\n%s", err, tail(string(out), 4000))
	}
	for _, want := range []string{`"resourceType":"CapabilityStatement"`, `"name":"complete"`, "mirels-score", "ait-pathway"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walk-through's output lacks %s", want)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
