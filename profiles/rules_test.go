package profiles

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// The native evaluation of each required-code rule gives the verdict gofhir gives on
// the rule's FHIRPath, on the referral and on the referral without each dossier item.
func TestRequiredCodeMatchesFHIRPath(t *testing.T) {
	v := testValidator(t)
	res := exampleResolver(v.Package())
	sd := v.structures[v.Package().Canonical+"/StructureDefinition/ait-referral"]
	var referral []byte
	for _, ex := range v.Package().Examples() {
		if ex.ID == "ait-referral-example" {
			referral = ex.Body
		}
	}
	bodies := [][]byte{referral}
	for i := range 20 {
		bodies = append(bodies, mutate(t, referral, del(fmt.Sprintf("supportingInfo.%d", i))))
	}
	rules := 0
	for _, inv := range sd.root.invariant {
		if inv.required == nil {
			continue
		}
		rules++
		for i, body := range bodies {
			root := decodeJSON(body)
			r := &run{v: v, ctx: context.Background(), resolver: res, memo: map[string]bool{}, why: map[string]string{},
				bytes: map[string][]byte{}, external: map[string]target{}}
			native := inv.required.holds(r.poolOf(inv.required, node{root, "ServiceRequest"}, root))
			out, err := inv.evaluate(context.Background(), body, &fhirpathResolver{r: r, scope: root}, true)
			if err != nil || len(out) != 1 {
				t.Fatalf("%s body %d: FHIRPath %v %v", inv.key, i, out, err)
			}
			if fhirpath := out[0].String() == "true"; fhirpath != native {
				t.Errorf("%s body %d: native %v, FHIRPath %v", inv.key, i, native, fhirpath)
			}
		}
	}
	if rules != 14 {
		t.Errorf("%d required-code rules on the referral, want 14 (12 labs, 2 imaging)", rules)
	}
}

// A required-code rule whose FHIRPath says something else than its extension is
// refused at load; an unresolvable pool makes the rule a warning.
func TestRequiredCodeRule(t *testing.T) {
	v := testValidator(t)
	sdRes, _ := v.Package().ByURL(v.Package().Canonical + "/StructureDefinition/ait-referral")
	drift := strings.Replace(string(sdRes.Body), "and code='751-8')", "and code='777-3')", 1)
	if drift == string(sdRes.Body) {
		t.Fatal("no neutrophil rule to alter")
	}
	if _, err := compileStructure([]byte(drift), v.Package().Canonical); err == nil || !strings.Contains(err.Error(), "ait-ref-lab-751-8") {
		t.Errorf("drifted rule: err = %v", err)
	}
	var referral []byte
	for _, ex := range v.Package().Examples() {
		if ex.ID == "ait-referral-example" {
			referral = ex.Body
		}
	}
	// Without the neutrophils and with nothing resolvable: a warning, not an error.
	oo := v.Validate(mutate(t, referral, del("supportingInfo.4")))
	if !hasIssue(oo, fhir.SeverityWarning, "business-rule", "ServiceRequest", "000 §V") || !strings.Contains(dump(oo), "not fully checked") {
		t.Errorf("unresolved dossier:\n%s", dump(oo))
	}
}

// Each LOINC equivalent the referential accepts for a lab (000 §V: PT in seconds, as %
// or as INR; aPTT in seconds or as a ratio; molar and mass units) meets the dossier
// rule and the lab profile; a code of no dossier lab meets neither.
func TestRequiredCodeEquivalents(t *testing.T) {
	v := testValidator(t)
	b, at := referralBundle(t, v, 1)
	for _, tc := range []struct {
		lab, code string
		ok        bool
	}{
		{"5902-2", "5894-1", true}, {"5902-2", "6301-6", true}, {"3173-2", "63561-5", true},
		{"751-8", "26499-4", true}, {"2160-0", "14682-9", true}, {"2345-7", "14749-6", true},
		{"17861-6", "2000-8", true}, {"2777-1", "14879-1", true},
		{"5902-2", "1751-7", false}, {"3173-2", "2160-0", false},
	} {
		i := at["Observation/ait-lab-"+tc.lab+"-example"]
		oo := v.Validate(mutate(t, b, set(fmt.Sprintf("entry.%d.resource.code.coding.0.code", i), tc.code),
			del(fmt.Sprintf("entry.%d.resource.code.coding.0.display", i))))
		ref := fmt.Sprintf("Bundle.entry[%d].resource", at["ServiceRequest/ait-referral-example"])
		failed := hasIssue(oo, fhir.SeverityError, "business-rule", ref, "000 §V")
		if failed == tc.ok || oo.HasErrors() == tc.ok {
			t.Errorf("lab %s sent as %s: want ok=%v:\n%s", tc.lab, tc.code, tc.ok, dump(oo))
		}
	}
}
