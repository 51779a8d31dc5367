package mapping

import (
	"fmt"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// EligibilityInput is what the indication is judged on (000 §IV, 001).
type EligibilityInput struct {
	// OMEMgPerDay is the daily oral morphine equivalent (see OME).
	OMEMgPerDay float64
	// OMELowerBound: some statements could not be converted (OMEResult.LowerBound):
	// the real equivalent may be above the threshold.
	OMELowerBound bool
	// SevereAdverseEffects: severe adverse effects of the analgesics.
	SevereAdverseEffects bool
	// Contraindications are codes (AIT or SNOMED CT) of the patient's conditions.
	Contraindications []string
	// BenefitRiskRecorded: a benefit/risk assessment is documented.
	BenefitRiskRecorded bool
}

// Eligibility is the verdict on the indication.
type Eligibility struct {
	Eligible bool
	Issues   []fhir.Issue
}

// CheckEligibility applies the indication (OME strictly above the threshold, or severe
// adverse effects), the absolute contraindications (block) and the relative ones (need
// a recorded benefit/risk assessment) of 000 §IV.
func CheckEligibility(in EligibilityInput, cfg rules.Config) Eligibility {
	if cfg.OMEThreshold == 0 {
		cfg = rules.DefaultConfig()
	}
	var out Eligibility
	th := rules.OMEThresholdDefault
	indicated := in.OMEMgPerDay > cfg.OMEThreshold || in.SevereAdverseEffects
	if !indicated {
		bound := ""
		if in.OMELowerBound {
			bound = " at least (some statements could not be converted: the real equivalent may be higher)"
		}
		out.Issues = append(out.Issues, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
			Diagnostics: fmt.Sprintf("no indication: %g mg/day oral morphine equivalent%s is not above %g mg/day and no severe adverse effects (%s; 001 says %g)",
				in.OMEMgPerDay, bound, cfg.OMEThreshold, th.Section, rules.OMEThreshold001.Value),
			Expression: []string{"MedicationStatement"}, Details: seedDetails(th.Section)})
	}
	for _, code := range in.Contraindications {
		ci, ok := rules.ContraindicationByCode(code)
		if !ok {
			continue
		}
		c := fhir.Coding{System: CodeSystemAIT, Code: ci.Code, Display: ci.Display}
		switch {
		case ci.Absolute:
			out.Issues = append(out.Issues, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
				Diagnostics: "absolute contraindication: " + ci.Display + " (" + ci.Section + ")",
				Expression:  []string{"Condition.code"}, Details: seedDetails(ci.Section, c)})
		case !in.BenefitRiskRecorded:
			out.Issues = append(out.Issues, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
				Diagnostics: "relative contraindication without a recorded benefit/risk assessment: " + ci.Display + " (" + ci.Section + ")",
				Expression:  []string{"Condition.code"}, Details: seedDetails(ci.Section, c)})
		default:
			out.Issues = append(out.Issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: "business-rule",
				Diagnostics: "relative contraindication, benefit/risk assessment recorded: " + ci.Display + " (" + ci.Section + ")",
				Expression:  []string{"Condition.code"}, Details: seedDetails(ci.Section, c)})
		}
	}
	out.Eligible = !fhir.NewOutcome(out.Issues...).HasErrors()
	return out
}

// ChooseTechnique picks the technique by life expectancy estimated at date from
// (000 §VI): strictly over 3 months an implanted pump, otherwise (exactly 3 months
// included: the seed says "> 3 mois") a catheter with subcutaneous port and external
// syringe driver followed by a palliative-care unit or home hospitalisation. Months
// are calendar months counted from the estimate's date.
func ChooseTechnique(lifeExpectancy rules.Span, from time.Time) rules.TechniqueRule {
	if lifeExpectancy.AddTo(from).After(rules.PumpLifeExpectancy.Min.AddTo(from)) {
		return rules.TechniquePump
	}
	return rules.TechniquePort
}
