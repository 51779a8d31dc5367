package profiles

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// baseProfile and derivedProfile are differential-only profiles constructed for the
// test: derivedProfile says nothing of birthDate, gender or maritalStatus; its base
// does. Checking against the generated snapshot applies the base's rules too.
var (
	baseProfile = `{"resourceType":"StructureDefinition","url":"https://example.org/StructureDefinition/base-patient",
 "name":"BasePatient","status":"draft","kind":"resource","abstract":false,"type":"Patient",
 "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",
 "differential":{"element":[
  {"id":"Patient.birthDate","path":"Patient.birthDate","min":1},
  {"id":"Patient.gender","path":"Patient.gender","fixedCode":"female"},
  {"id":"Patient.maritalStatus","path":"Patient.maritalStatus","binding":{"strength":"required","valueSet":"VS"}},
  {"id":"Patient.deceased[x]","path":"Patient.deceased[x]","type":[{"code":"boolean"}]}]}}`
	derivedProfile = `{"resourceType":"StructureDefinition","url":"https://example.org/StructureDefinition/derived-patient",
 "name":"DerivedPatient","status":"draft","kind":"resource","abstract":false,"type":"Patient",
 "baseDefinition":"https://example.org/StructureDefinition/base-patient","derivation":"constraint",
 "differential":{"element":[{"id":"Patient","path":"Patient"},{"id":"Patient.name","path":"Patient.name","min":1}]}}`
)

// TestDifferentialProfilesCheckedAgainstSnapshots: a profile given as a differential
// is checked against the snapshot generated from it and its base, so a profile
// derived from another inherits its cardinality, fixed value and required binding;
// an instance failing one fails on that element, named with the profile claimed.
func TestDifferentialProfilesCheckedAgainstSnapshots(t *testing.T) {
	// a ValueSet of the guide with one of its codes, and a code of another system
	g := testValidator(t)
	var vsURL, system, code string
	for url, vs := range g.valueSets {
		for sc := range vs.codes {
			if vsURL == "" || url < vsURL {
				vsURL = url
				system, code, _ = strings.Cut(sc, "|")
			}
		}
	}
	if vsURL == "" {
		t.Fatal("no enumerated ValueSet in the guide")
	}
	v := testExternal(t, "test.derived", strings.Replace(baseProfile, `"VS"`, `"`+vsURL+`"`, 1), derivedProfile)
	const derived = "https://example.org/StructureDefinition/derived-patient"
	coded := func(sys, c string) string {
		return `"maritalStatus":{"coding":[{"system":"` + sys + `","code":"` + c + `"}]}`
	}
	good := `{"resourceType":"Patient","name":[{"family":"Martin"}],"gender":"female","birthDate":"1950-02-03",` + coded(system, code) + `}`
	if oo := v.Validate([]byte(good), derived); oo.HasErrors() {
		t.Fatalf("valid instance refused: %s", oo.JSON())
	}
	// claimed in meta.profile rather than asked: the same checks
	claimed := strings.Replace(good, `"resourceType":"Patient",`, `"resourceType":"Patient","meta":{"profile":["`+derived+`"]},`, 1)
	for _, c := range []struct {
		name, from, to, expr, message string
	}{
		{"own rule", `"name":[{"family":"Martin"}],`, ``, "Patient.name", "name: minimum cardinality 1, found 0"},
		{"inherited cardinality", `,"birthDate":"1950-02-03"`, ``, "Patient.birthDate", "birthDate: minimum cardinality 1, found 0"},
		{"inherited fixed value", `"gender":"female"`, `"gender":"male"`, "Patient.gender", `must be exactly "female"`},
		{"inherited binding", coded(system, code), coded("https://example.org/other", code), "Patient.maritalStatus", "required binding"},
		{"inherited type", `"gender":"female"`, `"gender":"female","deceasedDateTime":"2020-01-01"`, "Patient.deceasedDateTime", "type DateTime is not allowed"},
	} {
		for _, body := range []string{good, claimed} {
			bad := strings.Replace(body, c.from, c.to, 1)
			if bad == body {
				t.Fatalf("%s: mutation did not apply", c.name)
			}
			var oo = v.Validate([]byte(bad))
			if body == good {
				oo = v.Validate([]byte(bad), derived)
			}
			if !hasErrorAt(oo, c.expr, "[DerivedPatient]", c.message) {
				t.Errorf("%s: want an error at %s with %q, got %s", c.name, c.expr, c.message, oo.JSON())
			}
		}
	}
	// a choice element present by its extensions alone ("_deceasedBoolean") is of the
	// type its key names
	absent := strings.Replace(good, `"gender":"female"`, `"gender":"female","_deceasedBoolean":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`, 1)
	if oo := v.Validate([]byte(absent), derived); oo.HasErrors() {
		t.Errorf("_deceasedBoolean refused: %s", oo.JSON())
	}
	// the base profile alone does not require a name
	noName := strings.Replace(good, `"name":[{"family":"Martin"}],`, ``, 1)
	if oo := v.Validate([]byte(noName), "https://example.org/StructureDefinition/base-patient"); oo.HasErrors() {
		t.Errorf("base profile: %s", oo.JSON())
	}
}

// TestIPSWithoutSnapshots: the IPS profiles with their published snapshots removed
// load from their differentials (snapshots generated), the IPS documents pass, and
// mutated ones fail on the right element.
func TestIPSWithoutSnapshots(t *testing.T) {
	ipsValidator(t) // fetches the package
	ext, err := LoadNPM(ips.tgz)
	if err != nil {
		t.Fatal(err)
	}
	for url, body := range ext.structures {
		var sd map[string]any
		if err := json.Unmarshal(body, &sd); err != nil {
			t.Fatal(err)
		}
		delete(sd, "snapshot")
		ext.structures[url], _ = json.Marshal(sd)
	}
	v, sk, err := testValidator(t).WithExternal(ext)
	if err != nil {
		t.Fatal(err)
	}
	if len(sk.Profiles) > 0 {
		t.Fatalf("not compiled from their differentials: %v", sk.Profiles)
	}
	for _, name := range []string{"Bundle-IPS-examples-Bundle-01.json", "Bundle-bundle-minimal.json", "Bundle-bundle-no-info-required-sections.json"} {
		if errs := errorsOf(v.Validate(ipsExample(t, name), ipsBundle)); len(errs) > 0 {
			t.Errorf("%s: %d errors: %v", name, len(errs), errs)
		}
	}
	var compact bytes.Buffer
	json.Compact(&compact, ipsExample(t, "Bundle-bundle-minimal.json"))
	good := compact.String()
	for _, c := range []struct{ name, from, to, expr, message string }{
		{"composition type", `"60591-5"`, `"11488-4"`, "Bundle.entry[0].resource.type", "CompositionUvIps"},
		{"document type", `"type":"document"`, `"type":"collection"`, "Bundle.type", "BundleUvIps"},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		if bad == good {
			t.Fatalf("%s: mutation did not apply", c.name)
		}
		if oo := v.Validate([]byte(bad), ipsBundle); !hasErrorAt(oo, c.expr, c.message) {
			t.Errorf("%s: want an error at %s, got %v", c.name, c.expr, errorsOf(oo))
		}
	}
}
