package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// shortcutCorpus: Bundles of every type and shape the Bundle shortcuts read, and
// resources with and without contained resources and narrative.
var shortcutCorpus = []string{
	`{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"fullUrl":"http://x.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}}]}`,
	`{"resourceType":"Bundle","type":"collection","total":2,"entry":[{"fullUrl":"http://x.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}}]}`,
	`{"resourceType":"Bundle","type":"history","total":1,"entry":[{"fullUrl":"http://x.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","meta":{"versionId":"1"}},"request":{"method":"PUT","url":"Patient/1"},"response":{"status":"200"}},{"fullUrl":"http://x.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","meta":{"versionId":"1"}},"request":{"method":"PUT","url":"Patient/1"},"response":{"status":"200"}}]}`,
	`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:8a4a2c4e-1b7e-4f5a-9d3c-2e6f7a8b9c0d","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},{"fullUrl":"http://x.org/fhir/Patient/2","resource":{"resourceType":"Patient","id":"2"}}]}`,
	`{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"201"}},{"resource":{"resourceType":"Patient","id":"3"}}]}`,
	`{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201"}},{"response":{"status":"200"},"request":{"method":"GET","url":"Patient/1"}}]}`,
	`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x.org/fhir/Patient/a1","resource":{"resourceType":"Patient","id":"a1"}},{"fullUrl":"http://x.org/fhir/Patient/a","resource":{"resourceType":"Patient","id":"a","meta":{"versionId":"1"}}},{"fullUrl":"http://x.org/fhir/Patient/_history/2"},{"link":[{"relation":"self","url":"http://x.org"}]}]}`,
	`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x.org/fhir/Patient/b","resource":{"resourceType":"Patient","id":"b"}},{"fullUrl":"http://x.org/fhir/Patient/b","resource":{"resourceType":"Patient","id":"b"}}]}`,
	`{"resourceType":"Bundle","type":"document","timestamp":"2024-01-01T10:00:00Z","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"},"entry":[{"fullUrl":"urn:uuid:1c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Patient"}}]}`,
	`{"resourceType":"Bundle","type":"document","entry":[{"fullUrl":"urn:uuid:1c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Composition","status":"final","type":{"text":"x"},"date":"2024","author":[{"display":"x"}],"title":"x"}}]}`,
	`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Patient"}}]}`,
	`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"MessageHeader","eventCoding":{"code":"x"},"source":{"endpoint":"http://x.org"}}}]}`,
	`{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","name":"x"}],"managingOrganization":{"reference":"#o"}}`,
	`{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","name":"x"},{"resourceType":"Organization","id":"p","name":"y"}],"managingOrganization":{"reference":"#o"}}`,
	`{"resourceType":"Patient","contained":[{"resourceType":"Organization","name":"x"}]}`,
	`{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}`,
	`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1,"unit":"mg"},"referenceRange":[{"text":"normal"}],"component":[{"code":{"text":"y"},"dataAbsentReason":{"text":"z"}}]}`,
	`{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group"},{"linkId":"2","type":"display","text":"x","required":true},{"linkId":"3","type":"string","enableWhen":[{"question":"1","operator":"exists","answerBoolean":true}]}]}`,
}

// TestShortcutsAgreeWithEngine: every invariant verdict given without the engine
// (holdsWithoutEvaluation, or an element without the children an invariant reads)
// is the engine's, on the corpus above, the guide's examples, the referral Bundle, the
// base R4 rule cases and (without -short) every 10th official R4 example under 20 kB. Each
// shortcut of holdsWithoutEvaluation is exercised.
func TestShortcutsAgreeWithEngine(t *testing.T) {
	v := testValidator(t)
	held := map[string]int{}
	var absentFails, absentHolds int
	var mu sync.Mutex // a Bundle's entries are validated in parallel (entriesInParallel)
	verifyShortcut = func(key, expr string, holds, failed bool) {
		mu.Lock()
		defer mu.Unlock()
		if holds == failed {
			t.Errorf("%s at %s: the shortcut says holds=%v, the engine failed=%v", key, expr, holds, failed)
		}
		if holdsWithoutEvaluation[key] != nil && holds {
			held[key]++
		} else if holds {
			absentHolds++
		} else {
			absentFails++
		}
	}
	defer func() { verifyShortcut = nil }()
	bodies := append([]string{}, shortcutCorpus...)
	for _, ex := range v.Package().Examples() {
		bodies = append(bodies, string(ex.Body))
	}
	bundle, _ := referralBundle(t, v, 50)
	bodies = append(bodies, string(bundle))
	for _, c := range r4RuleCases {
		bodies = append(bodies, c.body)
	}
	if !testing.Short() {
		files, _ := filepath.Glob(filepath.Join(officialExamplesDir(t), "*.json"))
		for i, f := range files {
			if i%10 != 0 || strings.HasPrefix(filepath.Base(f), ".") || filepath.Base(f) == "package.json" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > 20<<10 {
				continue // the large conformance resources: minutes when evaluated twice
			}
			bodies = append(bodies, string(b))
		}
	}
	for _, b := range bodies {
		v.Validate([]byte(b))
	}
	for key := range holdsWithoutEvaluation {
		if held[key] == 0 {
			t.Errorf("shortcut %s never exercised", key)
		}
	}
	if absentHolds == 0 || absentFails == 0 {
		t.Errorf("absent-roots verdicts: %d holding, %d failing; want both exercised", absentHolds, absentFails)
	}
	t.Logf("%d documents; shortcuts verified: %v; absent roots: %d holding, %d failing", len(bodies), held, absentHolds, absentFails)
}
