package pathway

import (
	"net/http"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// checkTrial computes the trial's result when a step records it, positive or negative
// (002): from the patient's posted pain scores and medication before and during the
// trial (mapping.TrialFromRecords), positive with at least 50 % relief and less
// medication. A result the records contradict, or cannot decide, refuses the step
// (422) with the figures and the code that would agree with them: the definitive
// pump after a trial needs a positive trial and the insurer's approval
// (rules.Requirements), and neither is assumed; a negative trial is a result too, and
// its letter tells the GP and the referring physician that no pump follows.
func checkTrial(w *rest.Writer, p mapping.Pathway, step object, ev mapping.Event) error {
	if ev.Fact != rules.FactTrialPositive && ev.Fact != rules.FactTrialNegative {
		return nil
	}
	start, ok := p.Facts[rules.FactTrialStart]
	if !ok {
		return nil // Apply refuses it: a result follows the trial's start
	}
	subject := subjectOf(step)
	obs, err := ofPatient(w, "Observation", subject)
	if err != nil {
		return err
	}
	var meds [][]byte
	for _, typ := range []string{"MedicationStatement", "MedicationRequest"} {
		b, err := ofPatient(w, typ, subject)
		if err != nil {
			return err
		}
		meds = append(meds, b...)
	}
	r, err := mapping.TrialFromRecords(start.At, ev.At, obs, meds)
	if err != nil {
		return err
	}
	if claimed := ev.Fact == rules.FactTrialPositive; r.Positive != claimed {
		computed, other := "not positive", rules.FactTrialNegative
		if r.Positive {
			computed, other = "positive", rules.FactTrialPositive
		}
		issues := make([]fhir.Issue, 0, len(r.Issues)+1)
		for _, is := range r.Issues {
			is.Severity = fhir.SeverityError
			is.Diagnostics = "the trial is " + computed + ": " + is.Diagnostics
			issues = append(issues, is)
		}
		issues = append(issues, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule", Expression: []string{str(step, "resourceType")},
			Details: seedCoding("002"), Diagnostics: "the step records " + ev.Fact + " but the posted pain scores and medication make the trial " +
				computed + ": record it as " + other + " (Fiche patient AIT, période d'essai)"})
		return fhir.Issues(http.StatusUnprocessableEntity, issues...)
	}
	w.Warn(r.Issues...)
	return nil
}
