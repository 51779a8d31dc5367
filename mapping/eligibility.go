package mapping

import (
	"fmt"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// OMEResult is the daily oral morphine equivalent of a medication review.
type OMEResult struct {
	// MgPerDay is the sum over the statements that could be converted.
	MgPerDay float64
	// Issues names each statement that could not be converted and why.
	Issues []fhir.Issue
}

// perDay reads the daily frequency of a Dosage timing: frequency per period periodUnit.
func perDay(dosage object) (float64, bool) {
	rep := obj(obj(dosage, "timing"), "repeat")
	if rep == nil {
		return 0, false
	}
	freq, ok := num(rep["frequency"])
	if !ok {
		freq = 1
	}
	period, ok := num(rep["period"])
	if !ok || period <= 0 {
		return 0, false
	}
	days := map[string]float64{"h": 1.0 / 24, "d": 1, "wk": 7}[str(rep, "periodUnit")]
	if days == 0 {
		return 0, false
	}
	return freq / (period * days), true
}

// molecule names the opioid of a MedicationStatement from its ATC or SNOMED CT codes.
func molecule(cc object) string {
	for _, c := range codings(cc) {
		if m, ok := rules.Molecules[c.Code]; ok {
			return m
		}
	}
	return ""
}

// OME computes the daily oral morphine equivalent of MedicationStatements (000 §IX.1.a
// equivalence, and the documented conversion table for other opioids). Only active
// statements count. A statement it cannot convert is reported, never guessed.
func OME(statements [][]byte) OMEResult {
	var res OMEResult
	for i, b := range statements {
		where := fmt.Sprintf("MedicationStatement[%d]", i)
		m, err := decodeObject(b)
		if err != nil || str(m, "resourceType") != "MedicationStatement" {
			res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "structure", where, "not a MedicationStatement"))
			continue
		}
		if s := str(m, "status"); s != "active" && s != "" {
			continue
		}
		mol := molecule(obj(m, "medicationCodeableConcept"))
		if mol == "" {
			continue // not an opioid of the table: not part of the OME
		}
		if why, ok := rules.NoLinearConversion[mol]; ok {
			res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "business-rule", where+".medication", why+": not counted in the OME"))
			continue
		}
		for j, d := range objs(m, "dosage") {
			dw := fmt.Sprintf("%s.dosage[%d]", where, j)
			route := rules.Route("")
			for _, c := range codings(obj(d, "route")) {
				if r, ok := rules.RouteCodes[c.Code]; ok {
					route = r
				}
			}
			var dose Quantity
			var got bool
			for _, dr := range objs(d, "doseAndRate") {
				if q, ok := quantityOf(obj(dr, "doseQuantity")); ok {
					dose, got = q, true
				}
			}
			n, okN := perDay(d)
			conv, okC := rules.ConversionFor(mol, route)
			unit := strings.TrimSuffix(dose.Unit, "/h")
			switch {
			case !got || !okN:
				res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "incomplete", dw, mol+": dose or frequency missing, not counted in the OME"))
			case !okC:
				res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "not-supported", dw+".route",
					fmt.Sprintf("%s by route %q has no row in the conversion table: not counted", mol, route)))
			case unit != conv.Unit:
				res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "value", dw+".doseAndRate.doseQuantity",
					fmt.Sprintf("%s dose in %q, the table converts %q: not counted", mol, dose.Unit, conv.Unit)))
			default:
				daily := dose.Value * n
				if strings.HasSuffix(dose.Unit, "/h") { // transdermal patches: rate per hour, applied continuously
					daily = dose.Value * 24
				}
				res.MgPerDay += daily * conv.Factor
			}
		}
	}
	return res
}

// EligibilityInput is what the indication is judged on (000 §IV, 001).
type EligibilityInput struct {
	// OMEMgPerDay is the daily oral morphine equivalent (see OME).
	OMEMgPerDay float64
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
		out.Issues = append(out.Issues, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
			Diagnostics: fmt.Sprintf("no indication: %g mg/day oral morphine equivalent is not above %g mg/day and no severe adverse effects (%s; 001 says %g)",
				in.OMEMgPerDay, cfg.OMEThreshold, th.Section, rules.OMEThreshold001.Value),
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

// ContraindicationsOf returns the codes of the active Conditions that the
// contraindication table recognises (000 §IV), for EligibilityInput.
func ContraindicationsOf(conditions [][]byte) []string {
	var out []string
	for _, b := range conditions {
		m, err := decodeObject(b)
		if err != nil || str(m, "resourceType") != "Condition" {
			continue
		}
		if cs := codings(obj(m, "clinicalStatus")); len(cs) > 0 && cs[0].Code != "active" && cs[0].Code != "recurrence" && cs[0].Code != "relapse" {
			continue
		}
		for _, c := range codings(obj(m, "code")) {
			if c.System != SystemSNOMED && c.System != CodeSystemAIT {
				continue
			}
			if _, ok := rules.ContraindicationByCode(c.Code); ok {
				out = append(out, c.Code)
			}
		}
	}
	return out
}
