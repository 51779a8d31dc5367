package profiles

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// hasIssue reports whether oo has an error at expr whose message holds every part.
func hasErrorAt(oo *fhir.OperationOutcome, expr string, parts ...string) bool {
	for _, is := range oo.Issue {
		if is.Severity != fhir.SeverityError || len(is.Expression) == 0 || is.Expression[0] != expr {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(is.Diagnostics, p)
		}
		if all {
			return true
		}
	}
	return false
}

// An AIT pump whose required implant-date extension is replaced by an extension the
// guide does not define is refused at Device.extension, naming the missing extension
// and the one found instead.
func TestRequiredExtensionReplacedByUnknown(t *testing.T) {
	v := testValidator(t)
	var r Resource
	for _, ex := range v.Package().Examples() {
		if ex.Type == "Device" && ex.ID == "ait-pump-example" {
			r = ex
		}
	}
	if r.Body == nil {
		t.Fatal("no pump example")
	}
	const implantDate = "https://fhir.aitgw.org/ig/ait/StructureDefinition/ait-implant-date"
	if oo := v.Validate(r.Body); oo.HasErrors() {
		t.Fatalf("the example is refused: %s", oo.JSON())
	}
	bad := strings.Replace(string(r.Body), `"`+implantDate+`"`, `"https://example.org/StructureDefinition/implant-day"`, 1)
	if bad == string(r.Body) {
		t.Fatal("the example has no implant-date extension")
	}
	oo := v.Validate([]byte(bad))
	if !hasErrorAt(oo, "Device.extension", "AITPump", "implantDate", implantDate, "minimum cardinality 1, found 0",
		"present instead: https://example.org/StructureDefinition/implant-day") {
		t.Errorf("want the missing implant date named at Device.extension, got %s", oo.JSON())
	}
}

// closedExtensionProfile is a Patient profile constructed for the test: its
// extensions are sliced by url, closed, with one required slice.
const closedExtensionProfile = `{"resourceType":"StructureDefinition","url":"https://example.org/StructureDefinition/closed-patient",
 "name":"ClosedPatient","status":"draft","kind":"resource","abstract":false,"type":"Patient",
 "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",
 "differential":{"element":[
  {"id":"Patient","path":"Patient"},
  {"id":"Patient.extension","path":"Patient.extension","slicing":{"discriminator":[{"type":"value","path":"url"}],"rules":"closed"}},
  {"id":"Patient.extension:birthPlace","path":"Patient.extension","sliceName":"birthPlace","min":1,"max":"1",
   "type":[{"code":"Extension","profile":["http://hl7.org/fhir/StructureDefinition/patient-birthPlace"]}]},
  {"id":"Patient.extension:nationality","path":"Patient.extension","sliceName":"nationality","min":0,"max":"1",
   "type":[{"code":"Extension","profile":["http://hl7.org/fhir/StructureDefinition/patient-nationality"]}]}]}}`

func testExternal(t *testing.T, name string, sds ...string) *Validator {
	t.Helper()
	ext := &External{Name: name, Version: "0.0.1", structures: map[string][]byte{}}
	for _, sd := range sds {
		var head struct{ URL string }
		if err := json.Unmarshal([]byte(sd), &head); err != nil {
			t.Fatal(err)
		}
		ext.structures[head.URL] = []byte(sd)
	}
	v, sk, err := testValidator(t).WithExternal(ext)
	if err != nil {
		t.Fatal(err)
	}
	if len(sk.Profiles) > 0 {
		t.Fatalf("not compiled: %v", sk.Profiles)
	}
	return v
}

// A closed slicing by url refuses an extension whose url no slice defines, naming
// the item and the slices allowed; its required slice is still required.
func TestClosedExtensionSlicing(t *testing.T) {
	v := testExternal(t, "test.closed", closedExtensionProfile)
	const profile = "https://example.org/StructureDefinition/closed-patient"
	birthPlace := `{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":{"city":"Lyon"}}`
	unknown := `{"url":"https://example.org/StructureDefinition/shoe-size","valueInteger":42}`
	patient := func(exts ...string) []byte {
		return []byte(`{"resourceType":"Patient","extension":[` + strings.Join(exts, ",") + `]}`)
	}
	if oo := v.Validate(patient(birthPlace), profile); oo.HasErrors() {
		t.Errorf("valid instance refused: %s", oo.JSON())
	}
	oo := v.Validate(patient(birthPlace, unknown), profile)
	if !hasErrorAt(oo, "Patient.extension[1]", "[ClosedPatient]", "extension https://example.org/StructureDefinition/shoe-size is not allowed",
		"birthPlace (http://hl7.org/fhir/StructureDefinition/patient-birthPlace)", "nationality") {
		t.Errorf("unknown extension in a closed slicing: %s", oo.JSON())
	}
	oo = v.Validate(patient(unknown), profile)
	if !hasErrorAt(oo, "Patient.extension[0]", "shoe-size is not allowed") ||
		!hasErrorAt(oo, "Patient.extension", "the extension http://hl7.org/fhir/StructureDefinition/patient-birthPlace is required", "present instead: https://example.org/StructureDefinition/shoe-size") {
		t.Errorf("unknown extension instead of the required one: %s", oo.JSON())
	}
	// the same profile with an open slicing accepts the extra extension
	open := testExternal(t, "test.open", strings.Replace(closedExtensionProfile, `"rules":"closed"`, `"rules":"open"`, 1))
	if oo := open.Validate(patient(birthPlace, unknown), profile); oo.HasErrors() {
		t.Errorf("open slicing refused an extra extension: %s", oo.JSON())
	}
}
