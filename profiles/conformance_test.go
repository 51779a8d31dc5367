package profiles

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// Every conformance resource of the package (StructureDefinitions, ValueSets,
// CodeSystems, SearchParameters) passes the validator's own base R4 check: the
// gateway seeds them into its store through validation, so one invalid resource
// would stop it from starting.
func TestConformanceResourcesValidR4(t *testing.T) {
	v := testValidator(t)
	count := map[string]int{}
	for _, r := range v.Package().Resources() {
		if r.Example {
			continue
		}
		count[r.Type]++
		oo := v.Validate(r.Body)
		for _, is := range oo.Issue {
			if is.Severity != fhir.SeverityInformation && !baseR4Warning(is) {
				t.Errorf("%s/%s: %s %s %v %s", r.Type, r.ID, is.Severity, is.Code, is.Expression, is.Diagnostics)
			}
		}
	}
	for _, typ := range []string{"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter"} {
		if count[typ] == 0 {
			t.Errorf("no %s checked", typ)
		}
	}
	// The check can fail: R4 has no BackboneElement pattern type.
	pump, _ := v.Package().ByURL(v.Package().Canonical + "/StructureDefinition/ait-pump")
	bad := strings.Replace(string(pump.Body), `"patternCodeableConcept"`, `"patternBackboneElement"`, 1)
	if bad == string(pump.Body) {
		t.Fatal("ait-pump has no patternCodeableConcept to break")
	}
	if oo := v.Validate([]byte(bad)); !oo.HasErrors() {
		t.Errorf("patternBackboneElement accepted:\n%s", dump(oo))
	}
}

const slicedDevice = `{"resourceType":"StructureDefinition","url":"x","name":"D","type":"Device","differential":{"element":[
 {"id":"Device","path":"Device"},
 {"id":"Device.property","path":"Device.property","slicing":{"discriminator":[{"type":"pattern","path":"type"}],"rules":"open"}},
 {"id":"Device.property:volume","path":"Device.property","sliceName":"volume","min":1,"max":"1"}%s]}}`

// A pattern slice is recognised by the pattern of its child at the discriminator
// path; a slice without one is an invalid StructureDefinition, refused at load.
func TestSliceDiscriminator(t *testing.T) {
	if _, err := compileStructure([]byte(strings.Replace(slicedDevice, "%s", "", 1)), "https://x"); err == nil ||
		!strings.Contains(err.Error(), "discriminator path") {
		t.Errorf("slice without a discriminator value: err = %v", err)
	}
	child := `,{"id":"Device.property:volume.type","path":"Device.property.type","patternCodeableConcept":{"coding":[{"system":"s","code":"vol"}]}}`
	sd, err := compileStructure([]byte(strings.Replace(slicedDevice, "%s", child, 1)), "https://x")
	if err != nil {
		t.Fatal(err)
	}
	dv := sd.byID["Device.property:volume"].disc
	if dv == nil || dv.fixed || strings.Join(dv.path, ".") != "type" {
		t.Fatalf("discriminator: %+v", dv)
	}
	cases := []struct {
		item string
		want bool
	}{
		{`{"type":{"coding":[{"system":"s","code":"vol","display":"Volume"}]},"valueQuantity":[{"value":40}]}`, true},
		{`{"type":{"coding":[{"system":"other","code":"x"},{"system":"s","code":"vol"}]}}`, true},
		{`{"type":{"coding":[{"system":"s","code":"level"}]}}`, false},
		{`{"type":{"coding":[{"code":"vol"}]}}`, false},
		{`{"valueQuantity":[{"value":40}]}`, false},
	}
	for _, c := range cases {
		if got := dv.matches(decodeJSON([]byte(c.item))); got != c.want {
			t.Errorf("%s: matches = %v, want %v", c.item, got, c.want)
		}
	}
	// The slice's own pattern also constrains its children (Identifier by system).
	own := `{"resourceType":"StructureDefinition","url":"x","name":"P","type":"Patient","differential":{"element":[
 {"id":"Patient","path":"Patient"},
 {"id":"Patient.identifier","path":"Patient.identifier","slicing":{"discriminator":[{"type":"value","path":"system"}],"rules":"open"}},
 {"id":"Patient.identifier:nir","path":"Patient.identifier","sliceName":"nir","fixedIdentifier":{"system":"nir"}}]}}`
	sd, err = compileStructure([]byte(own), "https://x")
	if err != nil {
		t.Fatal(err)
	}
	dv = sd.byID["Patient.identifier:nir"].disc
	if !dv.matches(decodeJSON([]byte(`{"system":"nir","value":"1"}`))) || dv.matches(decodeJSON([]byte(`{"system":"nia"}`))) {
		t.Errorf("value discriminator from the slice's own fixed value: %+v", dv)
	}
}

// ait-rcp-2 and ait-rcp-3 compare the life-expectancy basis in months whatever its
// UCUM unit (000 §VI): > 3 months implanted pump, < 3 months catheter and port.
func TestRCPLifeExpectancyUnits(t *testing.T) {
	v := testValidator(t)
	examples := exampleResolver(v.Package())
	var task, basis []byte
	for _, ex := range v.Package().Examples() {
		switch ex.ID {
		case "ait-rcp-decision-example":
			task = ex.Body
		case "ait-life-expectancy-example":
			basis = ex.Body
		}
	}
	cases := []struct {
		value     float64
		unit      string
		technique string
		broken    string // invariant key expected, "" for none
	}{
		{8, "wk", "implanted-pump", "ait-rcp-3"},               // 1.8 months
		{20, "wk", "implanted-pump", ""},                       // 4.6 months
		{400, "d", "catheter-port-external-pump", "ait-rcp-2"}, // 13 months
		{60, "d", "catheter-port-external-pump", ""},           // 2 months
		{1, "a", "catheter-port-external-pump", "ait-rcp-2"},   // 12 months
		{2, "mo", "implanted-pump", "ait-rcp-3"},               // 2 months
		{2, "mo", "catheter-port-external-pump", ""},           // 2 months
	}
	for _, c := range cases {
		le := mutate(t, basis, set("valueQuantity.value", c.value), set("valueQuantity.code", c.unit))
		res := ResolverFunc(func(ctx context.Context, ref string) ([]byte, error) {
			if ref == "Observation/ait-life-expectancy-example" {
				return le, nil
			}
			return examples.Resolve(ctx, ref)
		})
		body := mutate(t, task, set("output.1.valueCodeableConcept.coding.0.code", c.technique))
		oo := v.ValidateWith(context.Background(), res, body)
		name := fmt.Sprintf("%g %s, %s", c.value, c.unit, c.technique)
		if c.broken == "" {
			if oo.HasErrors() {
				t.Errorf("%s: unexpected errors\n%s", name, dump(oo))
			}
			continue
		}
		if !hasIssue(oo, fhir.SeverityError, "business-rule", "Task", "000 §VI") || !strings.Contains(dump(oo), c.broken+":") {
			t.Errorf("%s: want %s\n%s", name, c.broken, dump(oo))
		}
	}
}
