package pathway

import (
	"net/http"
	"net/url"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// lifeExpectancyUnits turns a life-expectancy Observation's UCUM unit into a Span.
var lifeExpectancyUnits = map[string]func(v int) rules.Span{
	"mo": func(v int) rules.Span { return rules.Span{Months: v} },
	"wk": func(v int) rules.Span { return rules.Span{Days: 7 * v} },
	"d":  func(v int) rules.Span { return rules.Span{Days: v} },
}

// taskOutput returns the outputs of an RCP Task of a given type code.
func taskOutput(task object, code string) []object {
	var out []object
	for _, o := range objs(task, "output") {
		if hasCode([]object{obj(o, "type")}, mapping.CodeSystemAIT, code) {
			out = append(out, o)
		}
	}
	return out
}

// checkRCP applies 000 §VI and §IV to an RCP decision: the technique decided against
// the one the life expectancy selects (a warning when they disagree: the RCP may have
// its reasons, the gateway says which rule it departs from), and, for an accepted
// decision, the indication: an absolute contraindication refuses it (422), a relative
// one without a recorded benefit/risk assessment (Condition.note or the Task's note)
// is a warning naming what is missing.
func (h *Hook) checkRCP(w *rest.Writer, task object) error {
	accepted, technique := false, ""
	for _, o := range taskOutput(task, mapping.CodeRCPDecision) {
		accepted = accepted || hasCode([]object{obj(o, "valueCodeableConcept")}, mapping.CodeSystemAIT, mapping.CodeRCPAccepted)
	}
	for _, o := range taskOutput(task, mapping.CodeRCPTechnique) {
		for _, t := range []rules.TechniqueRule{rules.TechniquePump, rules.TechniquePort} {
			if hasCode([]object{obj(o, "valueCodeableConcept")}, mapping.CodeSystemAIT, t.Code) {
				technique = t.Code
			}
		}
	}
	subject := subjectOf(task)
	if technique != "" {
		if err := checkTechnique(w, task, subject, technique); err != nil {
			return err
		}
	}
	if !accepted {
		return nil
	}
	return checkIndication(w, task, subject)
}

// checkTechnique compares the decided technique with ChooseTechnique (000 §VI) on the
// life expectancy the Task names as its basis, or the patient's latest estimate.
func checkTechnique(w *rest.Writer, task object, subject, technique string) error {
	var basis object
	for _, o := range taskOutput(task, "rcp-life-expectancy-basis") {
		var err error
		if basis, err = read(w.Tx(), ref(o, "valueReference")); err != nil {
			return err
		}
	}
	if basis == nil && subject != "" {
		bodies, err := txRecords{w}.Search("Observation", "subject="+url.QueryEscape(subject)+"&code="+url.QueryEscape(mapping.CodeSystemAIT+"|life-expectancy"))
		if err != nil {
			return err
		}
		var latest time.Time
		for _, b := range bodies {
			o := decode(b)
			if t, _ := parseDay(str(o, "effectiveDateTime")); basis == nil || t.After(latest) {
				basis, latest = o, t
			}
		}
	}
	if basis == nil {
		w.Warn(fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete", Expression: []string{"Task.output"},
			Diagnostics: "no life-expectancy estimate: the technique decided cannot be checked against it (000 §VI)"})
		return nil
	}
	q := obj(basis, "valueQuantity")
	v, okV := q["value"].(float64)
	unit, okU := lifeExpectancyUnits[str(q, "code")]
	from, _ := parseDay(str(basis, "effectiveDateTime"))
	if !okV || !okU || from.IsZero() {
		w.Warn(fhir.Issue{Severity: fhir.SeverityWarning, Code: "value", Expression: []string{"Observation.valueQuantity"},
			Diagnostics: "the life-expectancy estimate has no dated value in mo, wk or d: the technique was not checked (000 §VI)"})
		return nil
	}
	want := mapping.ChooseTechnique(unit(int(v)), from)
	if want.Code != technique {
		w.Warn(fhir.Issue{Severity: fhir.SeverityWarning, Code: "business-rule",
			Expression: []string{"Task.output.where(type.coding.code='rcp-technique').value"},
			Diagnostics: "technique " + technique + " decided, but a life expectancy of " + unit(int(v)).String() +
				" selects " + want.Code + ": more than 3 months an implanted pump, otherwise a catheter with port and external pump followed by " +
				rules.TechniquePort.FollowUp + " (" + want.Section + ")"})
	}
	return nil
}

// checkIndication applies the contraindications of 000 §IV (mapping.CheckEligibility)
// to the patient's active Conditions when the RCP accepts the indication.
func checkIndication(w *rest.Writer, task object, subject string) error {
	conds, err := ofPatient(w, "Condition", subject)
	if err != nil {
		return err
	}
	stmts, err := ofPatient(w, "MedicationStatement", subject)
	if err != nil {
		return err
	}
	taskNote := len(objs(task, "note")) > 0
	var errs, warns []fhir.Issue
	for _, b := range conds {
		c := decode(b)
		codes := mapping.ContraindicationsOf([][]byte{b})
		if len(codes) == 0 {
			continue
		}
		// The indication itself (OME) is judged below once; here the contraindications.
		in := mapping.EligibilityInput{SevereAdverseEffects: true, Contraindications: codes,
			BenefitRiskRecorded: taskNote || len(objs(c, "note")) > 0}
		for _, is := range mapping.CheckEligibility(in, rules.DefaultConfig()).Issues {
			is.Expression = []string{"Condition/" + str(c, "id") + ".code"}
			if ci, ok := rules.ContraindicationByCode(codes[0]); ok && ci.Absolute {
				is.Diagnostics = "the RCP cannot accept the indication: " + is.Diagnostics
				errs = append(errs, is)
				continue
			}
			switch is.Severity {
			case fhir.SeverityError:
				is.Severity = fhir.SeverityWarning
				is.Diagnostics += ": record it in Condition.note or the RCP Task's note"
			case fhir.SeverityWarning:
				is.Severity = fhir.SeverityInformation // assessed and recorded
			}
			warns = append(warns, is)
		}
	}
	if len(errs) > 0 {
		return fhir.Issues(http.StatusUnprocessableEntity, errs...)
	}
	ome := mapping.OME(stmts)
	if el := mapping.CheckEligibility(mapping.EligibilityInput{OMEMgPerDay: ome.MgPerDay, OMELowerBound: ome.LowerBound}, rules.DefaultConfig()); !el.Eligible {
		// Severe adverse effects are not coded in the data the gateway reads: a warning,
		// with the statements the equivalent leaves out.
		warns = append(warns, asWarnings(el.Issues)...)
		warns = append(warns, ome.Issues...)
	}
	w.Warn(warns...)
	return nil
}
