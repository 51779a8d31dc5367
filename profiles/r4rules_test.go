package profiles

import (
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// want is an issue a case expects: its severity, the element (FHIRPath) and a part
// of the message.
type want struct {
	severity, expression, message string
}

// r4RuleCases is the project's own corpus of base R4 rules beyond the JSON schema:
// per rule family a valid case (want nil: no error and no warning from that family)
// and invalid ones naming the element and the rule.
var r4RuleCases = []struct {
	family, name, body string
	want               []want
}{
	// required primitives: min 1 in the base StructureDefinitions, as value or _x
	{"required", "List with status", `{"resourceType":"List","status":"current","mode":"working"}`, nil},
	{"required", "List status as extension only", `{"resourceType":"List","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"mode":"working"}`, nil},
	{"required", "List without status", `{"resourceType":"List","mode":"working"}`,
		[]want{{"error", "List.status", "List.status is required"}}},
	{"required", "StructureDefinition without name and status", `{"resourceType":"StructureDefinition","url":"http://x.org/sd","kind":"resource","abstract":false,"type":"Patient"}`,
		[]want{{"error", "StructureDefinition.name", "StructureDefinition.name is required"}, {"error", "StructureDefinition.status", "StructureDefinition.status is required"}}},
	{"required", "Extension without url", `{"resourceType":"Patient","extension":[{"valueString":"x"}]}`,
		[]want{{"error", "Patient.extension[0].url", "Extension.url is required"}}},
	{"required", "Expression without language", `{"resourceType":"Patient","extension":[{"url":"http://x.org/e","valueExpression":{"expression":"1"}}]}`,
		[]want{{"error", "Patient.extension[0].valueExpression.language", "Expression.language is required"}}},

	// base64Binary
	{"base64", "valid base64", `{"resourceType":"Binary","contentType":"text/plain","data":"aGVsbG8="}`, nil},
	{"base64", "padding inside", `{"resourceType":"Binary","contentType":"text/plain","data":"aG=sbG8="}`,
		[]want{{"error", "Binary.data", "not valid base64Binary"}}},

	// JSON shape
	// the official schema defines complex types without "type": "object"
	{"shape", "a string for a complex element", `{"resourceType":"Patient","meta":"not an object"}`,
		[]want{{"error", "Patient.meta", "Expected: object"}}},
	{"shape", "a number for the narrative", `{"resourceType":"Patient","text":5}`,
		[]want{{"error", "Patient.text", "Expected: object"}}},
	{"shape", "a string as a repeated complex element", `{"resourceType":"Patient","name":["bob"]}`,
		[]want{{"error", "Patient.name[0]", "Expected: object"}}},
	{"shape", "a string for a nested backbone element", `{"resourceType":"Patient","contact":["x"]}`,
		[]want{{"error", "Patient.contact[0]", "Expected: object"}}},
	{"shape", "null value", `{"resourceType":"Patient","gender":null}`,
		[]want{{"fatal", "Patient.gender", "null is not a FHIR value"}}},
	{"shape", "empty array", `{"resourceType":"Patient","name":[]}`,
		[]want{{"fatal", "Patient.name", "an array must not be empty"}}},
	{"shape", "empty object (ele-1)", `{"resourceType":"Patient","name":[{}]}`,
		[]want{{"fatal", "Patient.name[0]", "an object must not be empty"}}},
	{"shape", "matching _given", `{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://x.org/e","valueString":"B"}]}]}]}`, nil},
	{"shape", "_given of the wrong length", `{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[{"id":"g1","extension":[{"url":"http://x.org/e","valueString":"x"}]}]}]}`,
		[]want{{"error", "Patient.name[0]._given", "same length"}}},

	// Bundle
	{"bundle", "urn:uuid and absolute fullUrls", `{"resourceType":"Bundle","type":"collection","entry":[
		{"fullUrl":"urn:uuid:7f4b2f7e-5b8a-4c1e-9d0a-1b2c3d4e5f60","resource":{"resourceType":"Patient"}},
		{"fullUrl":"http://example.org/fhir/Patient/p1","resource":{"resourceType":"Patient","id":"p1"}}]}`, nil},
	{"bundle", "relative fullUrl", `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"Patient/p1","resource":{"resourceType":"Patient","id":"p1"}}]}`,
		[]want{{"error", "Bundle.entry[0].fullUrl", "absolute URL"}}},
	{"bundle", "fullUrl of another id", `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://example.org/fhir/Patient/p2","resource":{"resourceType":"Patient","id":"p1"}}]}`,
		[]want{{"error", "Bundle.entry[0].fullUrl", "type and id"}}},
	{"bundle", "two entries with the same identity", `{"resourceType":"Bundle","type":"collection","entry":[
		{"fullUrl":"http://example.org/fhir/Patient/p1","resource":{"resourceType":"Patient","id":"p1"}},
		{"fullUrl":"http://example.org/fhir/Patient/p1","resource":{"resourceType":"Patient","id":"p1"}}]}`,
		[]want{{"error", "Bundle.entry[1]", "bdl-7"}}},
	{"bundle", "total outside a search (bdl-1)", `{"resourceType":"Bundle","type":"collection","total":1}`,
		[]want{{"error", "Bundle", "bdl-1"}}},

	// _x siblings of canonical elements
	{"canonical", "_baseDefinition and _profile", `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/Patient"],"_profile":[{"extension":[{"url":"http://x.org/e","valueString":"x"}]}]}}`, nil},

	{"canonical", "_profile not an array", `{"resourceType":"Patient","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/Patient"],"_profile":{"id":"x"}}}`,
		[]want{{"error", "Patient.meta._profile", ""}}},
	{"canonical", "_baseDefinition", `{"resourceType":"StructureDefinition","url":"http://x.org/sd","name":"X","status":"draft","kind":"resource","abstract":false,"type":"Patient","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","_baseDefinition":{"extension":[{"url":"http://x.org/e","valueString":"x"}]},"derivation":"constraint","differential":{"element":[{"id":"Patient","path":"Patient"}]}}`, nil},

	// bindings
	{"binding", "Expression.language text/cql.identifier (extensible)", `{"resourceType":"Patient","extension":[{"url":"http://x.org/e","valueExpression":{"language":"text/cql.identifier","expression":"X"}}]}`,
		[]want{{"warning", "Patient.extension[0].valueExpression.language", "extensible binding"}}},
	{"binding", "Condition.clinicalStatus in its ValueSet", `{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"subject":{"reference":"Patient/p"}}`, nil},
	{"binding", "Condition.clinicalStatus outside its required ValueSet", `{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"bogus"}]},"subject":{"reference":"Patient/p"}}`,
		[]want{{"error", "Condition.clinicalStatus", "required binding"}}},
	{"binding", "Observation.interpretation outside its extensible ValueSet", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"interpretation":[{"coding":[{"system":"http://x.org/cs","code":"odd"}]}]}`,
		[]want{{"warning", "Observation.interpretation[0]", "extensible binding"}}},

	// narrative
	{"narrative", "plain div", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Jean <b>Dupont</b></p><img src=\"#photo\" alt=\"\"/></div>"}}`, nil},
	{"narrative", "script", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script>x</div>"}}`,
		[]want{{"fatal", "Patient.text.div", "<script> is not allowed"}}},
	{"narrative", "event attribute", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">x</p></div>"}}`,
		[]want{{"fatal", "Patient.text.div", "event attribute onclick"}}},
	{"narrative", "external image", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"http://evil.example/t.gif\"/>x</div>"}}`,
		[]want{{"error", "Patient.text.div", "<img src> must reference"}}},
	{"narrative", "not an XHTML div", `{"resourceType":"Patient","text":{"status":"generated","div":"<p>x</p>"}}`,
		[]want{{"fatal", "Patient.text.div", `must be an XHTML div (<div xmlns="http://www.w3.org/1999/xhtml">)`}}},
	// attributes outside the list and empty content are reported by the validator, all
	// of them; the parser refuses only the unsafe kinds (one rule set: fhir.CheckNarrative)
	{"narrative", "attribute not allowed", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p data-x=\"1\">x</p></div>"}}`,
		[]want{{"error", "Patient.text.div", "base R4 narrative (txt-1): attribute data-x is not allowed on <p>"}}},
	{"narrative", "empty narrative", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"> </div>"}}`,
		[]want{{"error", "Patient.text.div", "base R4 narrative (txt-2)"}}},

	// invariants of the base StructureDefinitions
	{"invariant", "Period in order", `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"period":{"start":"2024-01-01","end":"2024-02-01"}}`, nil},
	{"invariant", "Period end before start (per-1)", `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"period":{"start":"2024-02-01","end":"2024-01-01"}}`,
		[]want{{"error", "Encounter.period", "per-1"}}},
	{"invariant", "extension with a value and extensions (ext-1)", `{"resourceType":"Patient","extension":[{"url":"http://x.org/e","valueString":"x","extension":[{"url":"a","valueString":"y"}]}]}`,
		[]want{{"error", "Patient.extension[0]", "ext-1"}}},
	{"invariant", "contained resource with narrative (dom-4… dom-2)", `{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"c","contained":[{"resourceType":"Patient","id":"d"}]}],"link":[{"other":{"reference":"#c"},"type":"seealso"}]}`,
		[]want{{"error", "Patient", "dom-2"}}},
	{"invariant", "local reference to nothing contained (ref-1)", `{"resourceType":"Patient","generalPractitioner":[{"reference":"#gp"}]}`,
		[]want{{"error", "Patient.generalPractitioner[0]", "ref-1"}}},
	{"invariant", "Questionnaire item display with required (que-6)", `{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"display","text":"x","required":true}]}`,
		[]want{{"error", "Questionnaire.item[0]", "que-6"}}},
	{"invariant", "RiskAssessment probability over 100 (ras-2)", `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/p"},"prediction":[{"probabilityDecimal":150.5}]}`,
		[]want{{"error", "RiskAssessment.prediction[0]", "ras-2"}}},
	// a decimal written as a JSON integer is still a decimal (R4 JSON: the element's
	// type decides, not how the number is written)
	{"invariant", "RiskAssessment probability over 100 written as an integer (ras-2)", `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/p"},"prediction":[{"probabilityDecimal":150}]}`,
		[]want{{"error", "RiskAssessment.prediction[0]", "ras-2"}}},
	{"invariant", "RiskAssessment probability of 100 written as an integer (ras-2)", `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/p"},"prediction":[{"probabilityDecimal":100}]}`,
		nil},
}

// TestR4Rules runs the corpus: every expected issue is found with its severity,
// element and message, and a valid case has no error or warning.
func TestR4Rules(t *testing.T) {
	v := testValidator(t)
	families := map[string][2]int{}
	for _, c := range r4RuleCases {
		oo := v.Validate([]byte(c.body))
		f := families[c.family]
		if c.want == nil {
			f[0]++
			for _, is := range oo.Issue {
				if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal || is.Severity == fhir.SeverityWarning {
					t.Errorf("%s/%s: unexpected %s at %v: %s", c.family, c.name, is.Severity, is.Expression, is.Diagnostics)
				}
			}
		} else {
			f[1]++
		}
		families[c.family] = f
		for _, w := range c.want {
			found := false
			for _, is := range oo.Issue {
				if is.Severity == w.severity && len(is.Expression) > 0 && is.Expression[0] == w.expression && strings.Contains(is.Diagnostics, w.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s/%s: want %s at %s containing %q, got\n%s", c.family, c.name, w.severity, w.expression, w.message, dump(oo))
			}
			if w.severity == "warning" && oo.HasErrors() {
				t.Errorf("%s/%s: want at most a warning, got errors\n%s", c.family, c.name, dump(oo))
			}
		}
	}
	for name, f := range families {
		if f[0] == 0 || f[1] == 0 {
			t.Errorf("rule family %s needs a valid and an invalid case (has %d, %d)", name, f[0], f[1])
		}
	}
}
