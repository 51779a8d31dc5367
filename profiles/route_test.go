package profiles

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// The intrathecal prescription's route is SNOMED CT 72607000 (Intrathecal route) or
// EDQM 20042000 (Intrathecal use), either alone; 372452007 (the code the guide fixed
// by mistake, an endotracheopulmonary route in most tables) is refused (000 §IX).
func TestIntrathecalRouteCodes(t *testing.T) {
	v := testValidator(t)
	res := exampleResolver(v.Package())
	var base []byte
	for _, ex := range v.Package().Examples() {
		if ex.Type == "MedicationRequest" && ex.ID == "ait-prescription-example" {
			base = ex.Body
		}
	}
	if base == nil {
		t.Fatal("no prescription example")
	}
	for _, tc := range []struct {
		name    string
		codings string
		valid   bool
	}{
		{"SNOMED CT only", `[{"system":"http://snomed.info/sct","code":"72607000"}]`, true},
		{"EDQM only", `[{"system":"http://standardterms.edqm.eu","code":"20042000"}]`, true},
		{"both", `[{"system":"http://snomed.info/sct","code":"72607000"},{"system":"http://standardterms.edqm.eu","code":"20042000"}]`, true},
		{"wrong SNOMED CT code", `[{"system":"http://snomed.info/sct","code":"372452007"}]`, false},
		{"EDQM code under SNOMED CT", `[{"system":"http://snomed.info/sct","code":"20042000"}]`, false},
	} {
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		var cs []any
		_ = json.Unmarshal([]byte(tc.codings), &cs)
		for _, di := range m["dosageInstruction"].([]any) {
			di.(map[string]any)["route"] = map[string]any{"coding": cs}
		}
		b, _ := json.Marshal(m)
		oo := v.ValidateWith(context.Background(), res, b)
		if oo.HasErrors() == tc.valid {
			t.Errorf("%s: valid=%v, want %v:\n%s", tc.name, !oo.HasErrors(), tc.valid, dump(oo))
		}
		if !tc.valid {
			found := false
			for _, is := range oo.Issue {
				for _, e := range is.Expression {
					found = found || (is.Code == "code-invalid" && len(e) > 0 && strings.Contains(e, "route"))
				}
			}
			if !found {
				t.Errorf("%s: no code-invalid issue on the route:\n%s", tc.name, dump(oo))
			}
		}
	}
}
