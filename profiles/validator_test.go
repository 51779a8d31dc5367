package profiles

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// Every example passes its profile with its references resolved, and with none
// resolved it still has no error (the checks that need a target become warnings).
func TestExamplesValid(t *testing.T) {
	v := testValidator(t)
	res := exampleResolver(v.Package())
	for _, ex := range v.Package().Examples() {
		oo := v.ValidateWith(context.Background(), res, ex.Body)
		for _, is := range oo.Issue {
			if is.Severity != fhir.SeverityInformation && !baseR4Warning(is) {
				t.Errorf("%s/%s: %s %s %v %s", ex.Type, ex.ID, is.Severity, is.Code, is.Expression, is.Diagnostics)
			}
		}
		if oo := v.Validate(ex.Body); oo.HasErrors() {
			t.Errorf("%s/%s standalone:\n%s", ex.Type, ex.ID, dump(oo))
		}
	}
}

// Every profile has at least one example that claims it.
func TestEveryProfileHasAnExample(t *testing.T) {
	v := testValidator(t)
	claimed := map[string]bool{}
	for _, ex := range v.Package().Examples() {
		claims, _ := field(field(decodeJSON(ex.Body), "meta"), "profile").([]any)
		for _, c := range claims {
			claimed[c.(string)] = true
		}
	}
	for _, url := range profileURLs(v) {
		if !claimed[url] {
			t.Errorf("no example of %s", url)
		}
	}
	if n := len(profileURLs(v)); n < 20 {
		t.Errorf("only %d profiles", n)
	}
}

func TestExplicitProfile(t *testing.T) {
	v := testValidator(t)
	patient := []byte(`{"resourceType":"Patient","name":[{"family":"X"}]}`)
	oo := v.Validate(patient, v.Package().Canonical+"/StructureDefinition/ait-patient")
	if !hasIssue(oo, fhir.SeverityError, "required", "Patient.generalPractitioner", "000 §V") {
		t.Errorf("explicit profile not applied:\n%s", dump(oo))
	}
	oo = v.Validate(patient, "http://example.org/StructureDefinition/other")
	if !hasIssue(oo, fhir.SeverityError, "not-supported", "Patient", "") {
		t.Errorf("unknown explicit profile accepted:\n%s", dump(oo))
	}
	oo = v.Validate(patient, v.Package().Canonical+"/StructureDefinition/ait-pump")
	if !hasIssue(oo, fhir.SeverityError, "structure", "Patient", "") {
		t.Errorf("profile of another type accepted:\n%s", dump(oo))
	}
	// A foreign profile claimed in meta.profile is a warning, not an error.
	oo = v.Validate([]byte(`{"resourceType":"Patient","meta":{"profile":["http://example.org/fr-core-patient"]}}`))
	if oo.HasErrors() || !hasIssue(oo, fhir.SeverityWarning, "not-supported", "Patient.meta.profile[0]", "") {
		t.Errorf("foreign profile:\n%s", dump(oo))
	}
}

func TestBaseR4(t *testing.T) {
	v := testValidator(t)
	cases := []struct{ body, code, expr string }{
		{`{"resourceType":"Patient","gender":"woman"}`, "value", "Patient.gender"},
		{`{"resourceType":"Patient","foo":1}`, "structure", "Patient.foo"},
		{`{"resourceType":"Patient","name":[{"given":"Jeanne"}]}`, "structure", "Patient.name[0].given"},
		// fhir.schema.json requires complex elements only (a primitive may come as _status).
		{`{"resourceType":"Observation","status":"final"}`, "required", "Observation.code"},
		{`{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"medicationCodeableConcept":{"text":"m"},"contained":[{"resourceType":"Medication","id":"m","code":{"foo":1}}]}`, "structure", "MedicationRequest.contained[0].code.foo"},
		{`{"resourceType":"CapabilityStatement","status":"active","date":"2026","kind":"instance","implementation":{"description":"x"},"fhirVersion":"4.0.1","format":["json"],"rest":[{"mode":"server"}]}`, "", ""},
	}
	for _, c := range cases {
		oo := v.Validate([]byte(c.body))
		if c.code == "" {
			if oo.HasErrors() {
				t.Errorf("%s: unexpected errors\n%s", c.body, dump(oo))
			}
			continue
		}
		if !hasIssue(oo, fhir.SeverityError, c.code, c.expr, "") {
			t.Errorf("%s: want %s at %s, got\n%s", c.body, c.code, c.expr, dump(oo))
		}
	}
}

// Hostile input never panics and always yields an outcome.
func TestHostileInput(t *testing.T) {
	v := testValidator(t)
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	many := `{"resourceType":"Patient","name":[` + strings.TrimSuffix(strings.Repeat(`{"given":1},`, 5000), ",") + `]}`
	cases := []string{"", "null", "[]", "{", `{"resourceType":1}`, `{"resourceType":"Nope"}`, deep, many,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Nope"}},{"resource":7}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"x","part":[{"name":"y","resource":{"resourceType":"Patient","gender":"x"}}]}]}`,
		`{"resourceType":"ServiceRequest","meta":{"profile":["https://fhir.aitgw.org/ig/ait/StructureDefinition/ait-referral"]},"supportingInfo":[{"reference":"#a"},{"reference":7},"x"],"contained":[{"resourceType":"Observation","id":"a"}]}`}
	for i, c := range cases {
		oo := v.Validate([]byte(c))
		if oo == nil || len(oo.Issue) == 0 || !oo.HasErrors() {
			t.Errorf("case %d: want errors, got %v", i, oo)
		}
		if len(oo.Issue) > maxIssues+1 {
			t.Errorf("case %d: %d issues", i, len(oo.Issue))
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	v := testValidator(t)
	res := exampleResolver(v.Package())
	exs := v.Package().Examples()
	var wg sync.WaitGroup
	errs := make(chan string, len(exs)*4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ex := range exs {
				if oo := v.ValidateWith(context.Background(), res, ex.Body); oo.HasErrors() {
					errs <- ex.ID
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for id := range errs {
		t.Errorf("%s failed under concurrency", id)
	}
}

func TestValidateFile(t *testing.T) {
	v := testValidator(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "p.json")
	if err := os.WriteFile(p, []byte(`{"resourceType":"Patient"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	oo, err := ValidateFile(v, p, v.Package().Canonical+"/StructureDefinition/ait-patient")
	if err != nil || !oo.HasErrors() {
		t.Fatalf("ValidateFile: %v %v", err, oo)
	}
	if _, err := ValidateFile(v, filepath.Join(dir, "missing.json"), ""); err == nil {
		t.Fatal("missing file: no error")
	}
}

// referralBundle is a transaction Bundle of the package's examples: the referral,
// its dossier and the rest of the pathway, padded with medication-review lines to n
// entries.
func referralBundle(t testing.TB, v *Validator, n int) ([]byte, map[string]int) {
	t.Helper()
	var entries []map[string]any
	at := map[string]int{}
	for _, ex := range v.Package().Examples() {
		at[ex.Type+"/"+ex.ID] = len(entries)
		entries = append(entries, map[string]any{
			"fullUrl":  "https://gw.example/fhir/" + ex.Type + "/" + ex.ID,
			"resource": json.RawMessage(ex.Body),
			"request":  map[string]any{"method": "PUT", "url": ex.Type + "/" + ex.ID}})
	}
	review := v.Package().Examples()[0].Body
	for _, ex := range v.Package().Examples() {
		if ex.ID == "ait-medication-review-example" {
			review = ex.Body
		}
	}
	for i := 0; len(entries) < n; i++ {
		id := fmt.Sprintf("ait-medication-review-%d", i)
		entries = append(entries, map[string]any{
			"fullUrl":  "https://gw.example/fhir/MedicationStatement/" + id,
			"resource": json.RawMessage(mutate(t, review, set("id", id))),
			"request":  map[string]any{"method": "PUT", "url": "MedicationStatement/" + id}})
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	if err != nil {
		t.Fatal(err)
	}
	return b, at
}

// A Bundle resolves its references internally; an invalid entry is reported with
// its index in the expression.
func TestReferralBundle(t *testing.T) {
	v := testValidator(t)
	b, at := referralBundle(t, v, 50)
	oo := v.Validate(b)
	for _, is := range oo.Issue {
		if is.Severity != fhir.SeverityInformation && !baseR4Warning(is) {
			t.Errorf("valid bundle: %s %s %v %s", is.Severity, is.Code, is.Expression, is.Diagnostics)
		}
	}
	i := at["Observation/ait-lab-751-8-example"]
	broken := mutate(t, b, set(fmt.Sprintf("entry.%d.resource.code.coding.0.code", i), "1751-7")) // albumin: not a dossier lab
	oo = v.Validate(broken)
	want := fmt.Sprintf("Bundle.entry[%d].resource.code", i)
	if !hasIssue(oo, fhir.SeverityError, "code-invalid", want, "000 §V") {
		t.Errorf("want code-invalid at %s:\n%s", want, dump(oo))
	}
	// The referral, whose lab is now not a dossier lab, fails too.
	ref := fmt.Sprintf("Bundle.entry[%d].resource", at["ServiceRequest/ait-referral-example"])
	if !hasIssue(oo, fhir.SeverityError, "business-rule", ref, "000 §V") {
		t.Errorf("want the referral's dossier rule at %s:\n%s", ref, dump(oo))
	}
}

// baseR4Warning: a warning of base R4 (an extensible binding the guide's own codes
// leave, spd-0 on the guide's dashed SearchParameter names) is a true finding about
// the guide, not an error: the tests of the guide's examples tolerate it.
func baseR4Warning(is fhir.Issue) bool {
	return is.Severity == fhir.SeverityWarning && strings.HasPrefix(is.Diagnostics, "base R4")
}
