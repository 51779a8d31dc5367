package mapping

import (
	"fmt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// FoundContraindication is a patient's Condition recognised as a contraindication of
// 000 §IV, once its statuses and control qualifier are read.
type FoundContraindication struct {
	Rule rules.Contraindication
	// Resource is the Condition ("Condition/12" or its position).
	Resource string
	// Code is the coding that matched.
	Code string
	// Why explains a rule that depends on a qualifier ("not coded as controlled").
	Why string
}

// conditionCounts reads a Condition's clinicalStatus and verificationStatus: a
// condition inactive, in remission, resolved, refuted or entered in error is no
// contraindication (rules.NotCounting).
func conditionCounts(m object) bool {
	for _, k := range []string{"clinicalStatus", "verificationStatus"} {
		for _, c := range codings(obj(m, k)) {
			if rules.NotCounting[c.Code] {
				return false
			}
		}
	}
	return true
}

// controlQualifier reads the controlled/uncontrolled qualifier of a Condition: the AIT
// code in stage.summary (the guide's way of coding it, 000 §IV). "" when absent.
func controlQualifier(m object) string {
	q := ""
	for _, st := range objs(m, "stage") {
		for _, c := range codings(obj(st, "summary")) {
			if c.System == CodeSystemAIT && (c.Code == rules.QualifierControlled || c.Code == rules.QualifierUncontrolled) {
				q = c.Code
			}
		}
	}
	return q
}

// FindContraindications returns the contraindications (000 §IV) among Conditions:
// only those that count by their statuses, and, for a rule on an uncontrolled
// condition (brain metastases), those not qualified as controlled.
func FindContraindications(conditions [][]byte) []FoundContraindication {
	var out []FoundContraindication
	for i, b := range conditions {
		m, err := decodeObject(b)
		if err != nil || str(m, "resourceType") != "Condition" || !conditionCounts(m) {
			continue
		}
		where := fmt.Sprintf("Condition[%d]", i)
		if id := str(m, "id"); id != "" {
			where = "Condition/" + id
		}
		for _, c := range codings(obj(m, "code")) {
			if c.System != SystemSNOMED && c.System != CodeSystemAIT {
				continue
			}
			ci, ok := rules.ContraindicationByCode(c.Code)
			if !ok {
				continue
			}
			f := FoundContraindication{Rule: ci, Resource: where, Code: c.Code}
			if ci.UnlessControlled && c.Code != ci.Code { // the AIT code itself says "uncontrolled"
				switch controlQualifier(m) {
				case rules.QualifierControlled:
					continue
				case rules.QualifierUncontrolled:
					f.Why = "coded uncontrolled (Condition.stage.summary)"
				default:
					f.Why = "not coded as controlled (Condition.stage.summary " + CodeSystemAIT + "|" + rules.QualifierControlled + "): taken as uncontrolled"
				}
			}
			out = append(out, f)
			break
		}
	}
	return out
}

// ContraindicationsOf returns the codes of the Conditions that are contraindications
// (FindContraindications), for EligibilityInput.
func ContraindicationsOf(conditions [][]byte) []string {
	var out []string
	for _, f := range FindContraindications(conditions) {
		out = append(out, f.Code)
	}
	return out
}

// ContraindicationIssues renders found contraindications as issues: absolute ones as
// errors (they block an accepting RCP decision), relative ones as warnings (a
// benefit/risk assessment is needed), each naming the Condition and the seed section.
func ContraindicationIssues(found []FoundContraindication) []fhir.Issue {
	var out []fhir.Issue
	for _, f := range found {
		kind, sev := "relative contraindication (needs a documented benefit/risk assessment)", fhir.SeverityWarning
		if f.Rule.Absolute {
			kind, sev = "absolute contraindication: an RCP cannot accept the indication", fhir.SeverityError
		}
		d := kind + ": " + f.Rule.Display
		if f.Why != "" {
			d += ", " + f.Why
		}
		out = append(out, fhir.Issue{Severity: sev, Code: "business-rule", Expression: []string{f.Resource + ".code"},
			Diagnostics: d + " (" + seedText(f.Rule.Section) + ")",
			Details:     seedDetails(f.Rule.Section, fhir.Coding{System: CodeSystemAIT, Code: f.Rule.Code, Display: f.Rule.Display})})
	}
	return out
}
