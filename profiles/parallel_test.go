package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestBundleEntriesInParallelReportAsOneRun: a top-level Bundle's entries validated
// on several cores give the very OperationOutcome one run gives (same issues, same
// order), for a valid 50-entry referral and for one with faults in three entries,
// each named by its entry.
func TestBundleEntriesInParallelReportAsOneRun(t *testing.T) {
	v := testValidator(t)
	good, _ := referralBundle(t, v, 50)
	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	faulty := []int{3, 17, 40}
	for _, i := range faulty {
		res := doc["entry"].([]any)[i].(map[string]any)["resource"].(map[string]any)
		res["meta"] = "not an object"
		res["id"] = "not a valid id!"
	}
	bad, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		body []byte
	}{{"valid", good}, {"three faulty entries", bad}} {
		prev := runtime.GOMAXPROCS(1)
		one := v.Validate(c.body).JSON()
		runtime.GOMAXPROCS(max(prev, 2))
		many := v.Validate(c.body).JSON()
		runtime.GOMAXPROCS(prev)
		if !bytes.Equal(one, many) {
			t.Errorf("%s: one core and several disagree:\n%s\n%s", c.name, one, many)
		}
		if c.name == "valid" {
			if bytes.Contains(many, []byte(`"severity":"error"`)) {
				t.Errorf("the valid referral has errors: %s", many)
			}
			continue
		}
		for _, i := range faulty {
			for _, field := range []string{"meta", "id"} {
				if want := fmt.Sprintf("Bundle.entry[%d].resource.%s", i, field); !strings.Contains(string(many), want) {
					t.Errorf("no issue names %s: %s", want, many)
				}
			}
		}
	}
}
