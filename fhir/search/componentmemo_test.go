package search

import (
	"bytes"
	"testing"
)

// Composites that share components (code-value-quantity, combo-code-value-quantity,
// component-code-value-quantity… all read code and value) give, indexed together
// with the memo of their components, exactly the keys each gives indexed alone.
func TestCompositeKeysWithSharedComponentsMatchEachAlone(t *testing.T) {
	r := newTestRegistry(t)
	obs := []byte(`{"resourceType":"Observation","id":"bp","status":"final",
	 "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
	 "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-01T10:00:00Z",
	 "valueQuantity":{"value":7,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"},
	 "component":[
	  {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
	  {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
	  {"code":{"coding":[{"system":"http://snomed.info/sct","code":"271649006"}]},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"17621005"}]}}]}`)
	all, err := r.Index("Observation", obs)
	if err != nil {
		t.Fatal(err)
	}
	composites := 0
	for _, p := range r.indexed("Observation") {
		if p.Type != "composite" || r.isDerived("Observation", p.Code) {
			continue // a derived one is stored as its sources' rows (derived.go)
		}
		alone, err := r.IndexOnly("Observation", obs, map[string]bool{p.Code: true})
		if err != nil {
			t.Fatal(err)
		}
		var together [][]byte
		for _, e := range all {
			if e.Param == p.Code {
				together = append(together, e.Key)
			}
		}
		if len(alone) > 0 {
			composites++
		}
		if len(alone) != len(together) {
			t.Errorf("%s: %d keys indexed with the others, %d alone", p.Code, len(together), len(alone))
			continue
		}
		for i, e := range alone {
			if !bytes.Equal(e.Key, together[i]) {
				t.Errorf("%s: key %d is %q with the others, %q alone", p.Code, i, together[i], e.Key)
			}
		}
	}
	if composites < 3 {
		t.Fatalf("only %d composites indexed this Observation: the test does not exercise shared components", composites)
	}
}
