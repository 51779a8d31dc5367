package search

import (
	"fmt"
	"strings"
	"testing"
)

// Observation's combo-* parameters are not indexed, and searching them (alone, or
// checked on candidates by the planner) answers as the specification defines them:
// the union of the observation's own and its components' values.
func TestDerivedParamsSearchTheirSources(t *testing.T) {
	r := newTestRegistry(t)
	r.SetBase("http://gw.test/fhir")
	tx := newMemTx()
	bodies := []string{
		`{"resourceType":"Observation","id":"single","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
		  "valueQuantity":{"value":120,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
		`{"resourceType":"Observation","id":"panel","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
		  "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":130,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
		               {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
		`{"resourceType":"Observation","id":"pulse","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
		  "valueQuantity":{"value":70,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`,
	}
	for _, b := range bodies {
		seed(t, r, tx, day0, b)
		entries, err := r.Index("Observation", []byte(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Param, "combo-") {
				t.Errorf("%s is indexed; its sources hold its values", e.Param)
			}
		}
	}
	for q, want := range map[string]string{
		"combo-code=http://loinc.org|8480-6":                          "[panel single]",
		"combo-code=8462-4":                                           "[panel]",
		"combo-code:missing=false":                                    "[panel pulse single]",
		"combo-value-quantity=gt125|http://unitsofmeasure.org|mm[Hg]": "[panel]",
		"combo-code-value-quantity=http://loinc.org|8480-6$gt125":     "[panel]",
		"combo-code-value-quantity=http://loinc.org|8480-6$lt125":     "[single]",
		"_id=panel,single&combo-code=8462-4":                          "[panel]",
		"_id=panel,single,pulse&combo-value-quantity=lt100":           "[panel pulse]",
	} {
		if got := fmt.Sprint(search(t, r, tx, "Observation", q)); got != want {
			t.Errorf("Observation?%s: %s, want %s", q, got, want)
		}
	}
}
