package summary

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIntrathecalMixtureByRouteCode: the summary shows a prescription as the
// intrathecal mixture for the route table's intrathecal codes (SNOMED CT 72607000,
// EDQM 20042000) and for no other: SNOMED CT 372452007, which the guide once fixed, is
// "Endotracheopulmonary use".
func TestIntrathecalMixtureByRouteCode(t *testing.T) {
	for _, tc := range []struct {
		system, code string
		intrathecal  bool
	}{
		{"http://snomed.info/sct", "72607000", true},
		{"http://standardterms.edqm.eu", "20042000", true},
		{"http://snomed.info/sct", "372452007", false},
		{"http://snomed.info/sct", "47625008", false},
	} {
		var mr map[string]any
		err := json.Unmarshal([]byte(`{"resourceType":"MedicationRequest","status":"active",
			"medicationCodeableConcept":{"text":"morphine"},
			"dosageInstruction":[{"route":{"coding":[{"system":"`+tc.system+`","code":"`+tc.code+`"}]}}]}`), &mr)
		if err != nil {
			t.Fatal(err)
		}
		got := (&doc{seen: map[string]bool{}}).prescription(mr)
		if strings.Contains(got, "Mélange intrathécal") != tc.intrathecal {
			t.Errorf("%s|%s: %q, intrathecal want %v", tc.system, tc.code, got, tc.intrathecal)
		}
	}
}
