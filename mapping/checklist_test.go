package mapping

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/mapping/rules"
	"github.com/aitgw/aitgw/profiles"
)

// TestReferralProfileIsTheChecklist: the AITReferral profile states exactly the
// dossier checklist the gateway checks (rules.DossierElements, by CheckDossier and
// $ait-dossier-status): one rule per element, holding every code the element is
// recognised by, so that "complete" has one definition (000 §V.2).
func TestReferralProfileIsTheChecklist(t *testing.T) {
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, ok := pkg.ByURL(ProfileReferral)
	if !ok {
		t.Fatalf("no %s in the package", ProfileReferral)
	}
	var sd struct {
		Differential struct {
			Element []struct {
				ID         string
				Min        int
				SliceName  string
				Constraint []struct{ Key, Expression string }
			}
		}
	}
	if err := json.Unmarshal(r.Body, &sd); err != nil {
		t.Fatal(err)
	}
	rule := map[string]string{}
	for _, e := range sd.Differential.Element {
		if e.SliceName != "" && e.Min > 0 {
			t.Errorf("slice %s has a minimum: completeness is the checklist's rules, not a slice's", e.ID)
		}
		for _, c := range e.Constraint {
			rule[c.Key] = c.Expression
		}
	}
	for _, el := range rules.DossierElements {
		var keys []string
		switch el.Kind {
		case rules.KindLab:
			labs := el.AnyOf
			if len(labs) == 0 {
				labs = []string{el.Key}
			}
			found := false
			for _, k := range labs {
				if lab, ok := rules.LabByKey(k); ok {
					for _, c := range lab.LOINC {
						found = found || rule["ait-ref-lab-"+c] != ""
					}
				}
			}
			if !found {
				t.Errorf("%s: no ait-ref-lab rule in the referral profile", el.Key)
			}
			continue
		case rules.KindImaging:
			for k := range rule {
				if strings.HasPrefix(k, "ait-ref-img-") && hasAllCodes(rule[k], el.Codes) {
					keys = append(keys, k)
				}
			}
		default:
			if hasAllCodes(rule["ait-ref-el-"+el.Key], el.Codes) && rule["ait-ref-el-"+el.Key] != "" {
				keys = append(keys, "ait-ref-el-"+el.Key)
			}
		}
		if len(keys) == 0 {
			t.Errorf("%s (%s): no referral-profile rule holding its codes %v", el.Key, el.Section, el.Codes)
		}
	}
}

// hasAllCodes reports whether a rule's FHIRPath names every "alias|code".
func hasAllCodes(expr string, codes []string) bool {
	for _, k := range resolveCodes(codes) {
		sys, code, _ := strings.Cut(k, "|")
		if !strings.Contains(expr, "'"+sys+"'") || !strings.Contains(expr, "'"+code+"'") {
			return false
		}
	}
	return true
}
