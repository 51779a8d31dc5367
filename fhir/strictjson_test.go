package fhir

import (
	"net/http"
	"strings"
	"testing"
)

// Finding #15.9 and #15.10: bytes that mean different things to different readers,
// and values outside R4, were stored as sent. Each must now be a 400 naming the
// element.
func TestAmbiguousOrOutOfRangeJSONIsRefused(t *testing.T) {
	big := "1" + strings.Repeat("0", 200000)
	cases := []struct {
		name, body, expr string
	}{
		{"duplicate key", `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/b"},"subject":{"reference":"Patient/a"}}`, "Observation.subject"},
		{"duplicate nested key", `{"resourceType":"Patient","name":[{"family":"A","family":"B"}]}`, "Patient.name[0].family"},
		{"resourceType twice", `{"resourceType":"Observation","resourceType":"Patient"}`, "Observation.resourceType"},
		{"invalid UTF-8 0xFF", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\"}]}", ""},
		{"overlong UTF-8", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xc0\xaf\"}]}", ""},
		{"raw surrogate", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xed\xa0\x80\"}]}", ""},
		{"escaped lone high surrogate", `{"resourceType":"Patient","name":[{"family":"\ud800x"}]}`, "Patient.name[0].family"},
		{"escaped lone low surrogate", `{"resourceType":"Patient","name":[{"family":"\udc00"}]}`, "Patient.name[0].family"},
		{"escaped NUL", `{"resourceType":"Patient","name":[{"family":"a\u0000b"}]}`, "Patient.name[0].family"},
		{"integer beyond 32 bits", `{"resourceType":"Patient","multipleBirthInteger":4294967296}`, "Patient.multipleBirthInteger"},
		{"integer with fraction", `{"resourceType":"ImagingStudy","status":"available","subject":{"reference":"Patient/a"},"numberOfSeries":1.5}`, "ImagingStudy.numberOfSeries"},
		{"1e400", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e400}}`, "Observation.valueQuantity.value"},
		{"huge exponent", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e` + big + `}}`, "Observation.valueQuantity.value"},
		{"too many digits", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.` + strings.Repeat("3", 40) + `}}`, "Observation.valueQuantity.value"},
		{"null value", `{"resourceType":"Patient","gender":null}`, "Patient.gender"},
		{"array of null", `{"resourceType":"Patient","name":[null]}`, "Patient.name"},
		{"empty array", `{"resourceType":"Patient","name":[]}`, "Patient.name"},
		{"empty object", `{"resourceType":"Patient","name":[{}]}`, "Patient.name[0]"},
		{"null without partner", `{"resourceType":"Patient","name":[{"given":["a",null]}]}`, "Patient.name[0].given"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseResource([]byte(c.body))
			if err == nil {
				t.Fatalf("accepted")
			}
			if err.Status != http.StatusBadRequest {
				t.Fatalf("status %d", err.Status)
			}
			if c.expr != "" {
				is := err.Outcome.Issue[0]
				if len(is.Expression) == 0 || is.Expression[0] != c.expr {
					t.Fatalf("expression %v, want %s (%s)", is.Expression, c.expr, is.Diagnostics)
				}
			}
		})
	}
}

// What FHIR JSON allows stays accepted: a leading BOM, aligned nulls, surrogate
// pairs, decimals with exponents, large decimals where decimals belong.
func TestStrictJSONKeepsValidFHIR(t *testing.T) {
	for _, body := range []string{
		"\xef\xbb\xbf" + `{"resourceType":"Patient","name":[{"family":"Bom"}]}`,
		`{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"extension":[{"url":"http://x","valueString":"y"}]}]}]}`,
		`{"resourceType":"Patient","name":[{"family":"\ud83d\ude00 \u00e9"}]}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":6.02e23}}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":4294967296}}`,
		`{"resourceType":"Patient","multipleBirthInteger":-2147483648,"active":true,"deceasedBoolean":false}`,
	} {
		r, err := ParseResource([]byte(body))
		if err != nil {
			t.Fatalf("%s: %s", body, err.Outcome.JSON())
		}
		if strings.HasPrefix(string(r.Body), "\xef") {
			t.Fatalf("BOM kept")
		}
	}
}

// FuzzParseResource: whatever the bytes, a resource or a 4xx, never a panic.
func FuzzParseResource(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}]}`,
		`{"resourceType":"Observation","valueQuantity":{"value":1e400}}`,
		`{"resourceType":"Patient","a":"\ud800\udc00","a":1}`,
		"{\"resourceType\":\"Patient\",\"x\":\"\xff\"}",
		`[null]`, `null`, `{}`, `{"resourceType":"Patient","x":[[1]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResource(b)
		if err != nil && (err.Status < 400 || err.Status >= 500) {
			t.Fatalf("status %d", err.Status)
		}
		if err == nil && r == nil {
			t.Fatal("nil resource without error")
		}
		if err == nil {
			for _, ref := range References(r.Type, r.Body) {
				ReferenceType(ref.Value, "http://gw.test/fhir")
			}
		}
	})
}
