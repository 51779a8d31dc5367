package e2e

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
