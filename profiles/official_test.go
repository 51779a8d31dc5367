package profiles

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// officialExamplesDir fetches the official R4 examples with testdata/fetch-examples.sh
// (npm pack, cached in $AITGW_CACHE) and returns the directory of Type-id.json files.
func officialExamplesDir(t testing.TB) string {
	out, err := exec.Command("sh", "../testdata/fetch-examples.sh").Output()
	if err != nil {
		t.Fatalf("fetch-examples.sh: %v (npm is needed to fetch the official examples)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// ruleOf reduces an error message to its rule, for counting.
var ruleOf = regexp.MustCompile(`^(base R4 [a-z0-9-]+|base R4 narrative \(txt-\d\)|base R4 Bundle|base R4: [^:"(]{0,40})`)

// TestOfficialExamplesBaseR4 validates every official R4 example and fails on any
// refusal not explained in knownRefusals (officialrefusals_test.go), and on any
// explained one that no longer happens.
func TestOfficialExamplesBaseR4(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the official examples (npm): not run with -short")
	}
	dir := officialExamplesDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 5000 {
		t.Fatalf("only %d official examples in %s", len(files), dir)
	}
	v := testValidator(t)
	rules := map[string]int{}
	refused, seen := 0, map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, ".") || name == "package.json" {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		oo := v.Validate(body)
		if !oo.HasErrors() {
			continue
		}
		refused++
		var errs []string
		for _, is := range oo.Issue {
			if is.Severity == "error" || is.Severity == "fatal" {
				errs = append(errs, strings.Join(is.Expression, ",")+": "+is.Diagnostics)
				rules[ruleOf.FindString(is.Diagnostics)]++
			}
		}
		var unexplained []string
		for _, e := range errs {
			explained := false
			for rule := range knownRefusals {
				if strings.Contains(e, rule) {
					seen[rule], explained = true, true
				}
			}
			if !explained {
				unexplained = append(unexplained, e)
			}
		}
		if len(unexplained) > 0 {
			if len(unexplained) > 3 {
				unexplained = unexplained[:3]
			}
			t.Errorf("%s refused: %s", name, strings.Join(unexplained, " | "))
		}
	}
	for rule := range knownRefusals {
		if !seen[rule] {
			t.Errorf("no example breaks %q any more: update knownRefusals", rule)
		}
	}
	var keys []string
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%5d %s", rules[k], k)
	}
	t.Logf("%d official examples, %d refused (all explained)", len(files), refused)
}
