package search

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// fhirpathRegistry is a registry that evaluates every expression with FHIRPath: the
// reference for the native walk.
func fhirpathRegistry(t testing.TB) *Registry {
	r := newTestRegistry(t)
	r.fhirpathOnly = true
	return r
}

// entriesDiff describes how got differs from want (same entries, same order), or "".
func entriesDiff(got, want []fhir.IndexEntry) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			return fmt.Sprintf("parameter %s, entry %d missing from the native entries: %q", want[i].Param, i, want[i].Key)
		case i >= len(want):
			return fmt.Sprintf("parameter %s, entry %d only in the native entries: %q", got[i].Param, i, got[i].Key)
		case got[i].Param != want[i].Param || !bytes.Equal(got[i].Key, want[i].Key):
			return fmt.Sprintf("parameter %s, entry %d: native %s %q, FHIRPath %s %q", want[i].Param, i, got[i].Param, got[i].Key, want[i].Param, want[i].Key)
		}
	}
	return ""
}

// cachedOfficialExamples returns every official R4 example (hl7.fhir.r4.examples,
// some 5,000 resources of all types) when testdata/fetch-examples.sh already left
// them in its cache; nothing is fetched here, and none is returned otherwise.
func cachedOfficialExamples(t *testing.T) []json.RawMessage {
	cache := os.Getenv("AITGW_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		cache = filepath.Join(dir, "aitgw")
	}
	pkg := filepath.Join(cache, "hl7.fhir.r4.examples-4.0.1")
	if _, err := os.Stat(filepath.Join(pkg, ".complete")); err != nil {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(pkg, "package", "*.json"))
	var out []json.RawMessage
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ ResourceType string }
		if json.Unmarshal(b, &head) == nil && head.ResourceType != "" {
			out = append(out, b)
		}
	}
	return out
}

// TestNativeIndexEqualsFHIRPath proves the native walk of plain paths (native.go)
// equivalent to FHIRPath evaluation: on every official example committed in
// testdata, and every one of the full official set when it is in the cache (not
// with -short), every search parameter of its type (composites included) must give
// the same entries in the same order both ways. The whole resource is compared (an
// entry names its parameter); the derived parameters, which Index leaves out, one by
// one.
func TestNativeIndexEqualsFHIRPath(t *testing.T) {
	fast, slow := newTestRegistry(t), fhirpathRegistry(t)
	walked, fallbacks, params := 0, 0, 0
	examples := loadExamples(t)
	if all := cachedOfficialExamples(t); all != nil && !testing.Short() {
		t.Logf("with the %d cached official examples", len(all))
		examples = append(examples, all...)
	}
	for _, ex := range examples {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal(ex, &head); err != nil {
			t.Fatal(err)
		}
		name := head.ResourceType + "/" + head.ID
		got, err1 := fast.Index(head.ResourceType, ex)
		want, err2 := slow.Index(head.ResourceType, ex)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", name, err1, err2)
		}
		if d := entriesDiff(got, want); d != "" {
			t.Errorf("%s: %s", name, d)
		}
		// in the store's order, so that the store does not sort under its write lock
		if !slices.IsSortedFunc(got, fhir.CompareIndexEntries) {
			t.Errorf("%s: entries not in (param, key) order", name)
		}
		for _, p := range fast.indexed(head.ResourceType) {
			params++
			w, f := walkedBranches(p, ex)
			walked, fallbacks = walked+w, fallbacks+f
			if !fast.isDerived(head.ResourceType, p.Code) {
				continue
			}
			codes := map[string]bool{p.Code: true}
			got, err1 := fast.IndexOnly(head.ResourceType, ex, codes)
			want, err2 := slow.IndexOnly(head.ResourceType, ex, codes)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s %s: %v / %v", name, p.Code, err1, err2)
			}
			if d := entriesDiff(got, want); d != "" {
				t.Errorf("%s, parameter %s (%s): %s", name, p.Code, p.Expression, d)
			}
		}
	}
	// The comparison is only worth something if the native walk did the work: it
	// must find values far more often than it defers to FHIRPath.
	if walked < 2000 || fallbacks*20 > walked {
		t.Errorf("%d native walks with values, %d deferred to FHIRPath", walked, fallbacks)
	}
	t.Logf("%d examples, %d (example, parameter) pairs: %d native walks found values, %d deferred to FHIRPath",
		len(examples), params, walked, fallbacks)
}

// walkedBranches counts the branches of p the native walk finds values for on
// body, and those it leaves to FHIRPath.
func walkedBranches(p *Param, body []byte) (walked, deferred int) {
	present := topLevel(body)
	for _, b := range p.branches {
		if b.native && (b.member == "" || present.has(b.member)) && (b.root == "" || present.has(b.root)) {
			vals, ok := walkRoot(&lazyContext{body: body}, present, b.typ, b.steps)
			switch {
			case !ok:
				deferred++
			case len(vals) > 0:
				walked++
			}
		}
	}
	return walked, deferred
}

// TestNativeWalkEdgeCases checks the engine's corner cases the examples may not
// hold: primitive extensions only, nulls, nested arrays, a choice element reached by
// its plain name, dates in text, escaped strings, and the brute-force choice lookup
// left to FHIRPath; and the resources of the scale benchmark.
func TestNativeWalkEdgeCases(t *testing.T) {
	fast, slow := newTestRegistry(t), fhirpathRegistry(t)
	docs := []string{
		`{"resourceType":"Patient","id":"a","_birthDate":{"extension":[{"url":"u","valueString":"x"}]}}`,
		`{"resourceType":"Patient","id":"b","name":[null,{"family":null,"given":[null,"Zo\u00e9","2020"]},[{"family":"X"}]],"birthDate":null}`,
		`{"resourceType":"Patient","id":"c","name":[{"text":"no family","familyString":"odd"}],"address":[{"line":["1 \"rue\"\\n"],"city":"2021-05-01"}]}`,
		`{"resourceType":"Patient","id":"d","deceasedDateTime":"2020-01-01T10:00:00+02:00","telecom":[{"system":"email","value":"a@b"}]}`,
		`{"resourceType":"Observation","id":"e","status":"final","code":{"text":"t"},"effectivePeriod":{"start":"2020"},"valueQuantity":{"value":1e3,"unit":"g"},
		  "component":[{"code":{"coding":[{"system":"s","code":"c"}]},"valueQuantity":{"value":2.50,"code":"mg"}},{"code":{"text":"x"},"valueString":"v"}]}`,
		`{"resourceType":"Observation","id":"f","status":"final","code":{"coding":[{"code":"k"}]},"valueCodeableConcept":{"coding":[{"system":"s","code":"v"}],"text":"T"},"subject":{"reference":"Patient/1"}}`,
		`{"resourceType":"Encounter","id":"g","period":{"start":"2020-01-01"},"participant":[{"individual":{"reference":"Practitioner/1"}},{"type":[{"text":"x"}]}],"length":{"value":3,"unit":"d"}}`,
		`{"resourceType":"Condition","id":"h","onsetAge":{"value":3,"unit":"a"},"abatementString":"gone","recordedDate":"2021"}`,
		`{"resourceType":"MedicationRequest","id":"i","medicationCodeableConcept":{"coding":[{"code":"m"}]},"authoredOn":"2020-02-02T02:02:02Z","dosageInstruction":[{"timing":{"event":["2020-01-01"]}}]}`,
	}
	for _, x := range benchGroup {
		docs = append(docs, string(x.body))
	}
	for _, d := range docs {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal([]byte(d), &head); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		got, err1 := fast.Index(head.ResourceType, []byte(d))
		want, err2 := slow.Index(head.ResourceType, []byte(d))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", head.ID, err1, err2)
		}
		if diff := entriesDiff(got, want); diff != "" {
			t.Errorf("%s/%s: %s", head.ResourceType, head.ID, diff)
		}
	}
}
