package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir/rest"
)

// A Bundle entry's resource is read once with the whole Bundle (syntax, depth,
// narratives), then only for its type and id: every check still refuses its entry,
// with a 400 naming the element, and nothing of the Bundle is written.
func TestBundleEntryResourceChecks(t *testing.T) {
	patient := `{"resource":{"resourceType":"Patient","name":[{"family":"A"}]},"request":{"method":"POST","url":"Patient"}}`
	cases := []struct {
		name, entry, code, expression string
	}{
		{"script in a narrative", `{"resource":{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script></div>"}},"request":{"method":"POST","url":"Patient"}}`,
			"value", "Bundle.entry[1].resource.text.div"},
		{"resource not an object", `{"resource":["Patient"],"request":{"method":"POST","url":"Patient"}}`, "structure", ""},
		{"no resourceType", `{"resource":{"name":[{"family":"B"}]},"request":{"method":"POST","url":"Patient"}}`, "required", "Bundle.entry[1].resource"},
		{"unknown resourceType", `{"resource":{"resourceType":"Patientt"},"request":{"method":"POST","url":"Patient"}}`, "not-supported", "Bundle.entry[1].resource"},
		{"invalid id", `{"resource":{"resourceType":"Patient","id":"a b"},"request":{"method":"PUT","url":"Patient/a b"}}`, "value", "Bundle.entry[1].resource.id"},
		{"type other than the URL's", `{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},"request":{"method":"POST","url":"Patient"}}`, "invalid", "Bundle.entry[1].resource"},
		{"duplicate key", `{"resource":{"resourceType":"Patient","gender":"male","gender":"female"},"request":{"method":"POST","url":"Patient"}}`, "structure", ""},
	}
	for _, typ := range []string{"transaction", "batch"} {
		for _, c := range cases {
			t.Run(typ+"/"+c.name, func(t *testing.T) {
				s := newService(t)
				body := `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + patient + `,` + c.entry + `]}`
				resp, err := s.Bundle(ctx, &rest.Request{Body: []byte(body)}, "")
				if typ == "batch" && err == nil {
					// a batch answers each entry: the bad one fails on its own, or the
					// whole Bundle was refused before any entry ran
					if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"status":"400`) {
						t.Fatalf("batch: %d %s, want the entry refused with a 400", resp.Status, resp.Body)
					}
					return
				}
				fe := mustFail(t, err, http.StatusBadRequest, c.code)
				if c.expression != "" && fe.Outcome.Issue[0].Expression[0] != c.expression {
					t.Errorf("expression %v, want %s", fe.Outcome.Issue[0].Expression, c.expression)
				}
				if typ == "transaction" && patientCount(t, s) != 0 {
					t.Fatal("the transaction's valid entry was written")
				}
			})
		}
	}
}
