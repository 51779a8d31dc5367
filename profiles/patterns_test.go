package profiles

import (
	"strings"
	"testing"
)

// TestMalformedDateSaysWhatADateIs: a malformed primitive value is refused with the
// form the type expects in words, never the schema's regular expression.
func TestMalformedDateSaysWhatADateIs(t *testing.T) {
	v := testValidator(t)
	oo := v.Validate([]byte(`{"resourceType":"Patient","birthDate":"yesterday"}`))
	var found bool
	for _, is := range oo.Issue {
		if len(is.Expression) > 0 && is.Expression[0] == "Patient.birthDate" {
			found = true
			if strings.Contains(is.Diagnostics, "^") || strings.Contains(is.Diagnostics, "[0-9]") {
				t.Errorf("the message quotes a regular expression: %s", is.Diagnostics)
			}
			if !strings.Contains(is.Diagnostics, "YYYY-MM-DD") || !strings.Contains(is.Diagnostics, `"yesterday"`) {
				t.Errorf("the message does not say what a date is: %s", is.Diagnostics)
			}
		}
	}
	if !found {
		t.Fatalf("birthDate \"yesterday\" was not refused: %+v", oo.Issue)
	}
}
