package pathway

import (
	"net/http"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// checkTrial computes the trial's result when a step records it positive (002): from
// the patient's posted pain scores and medication before and during the trial
// (mapping.TrialFromRecords), at least 50 % relief and less medication. A result the
// records do not support, or cannot decide, refuses the step (422): the definitive
// pump after a trial needs a positive trial and the insurer's approval
// (rules.Requirements), and neither is assumed.
func checkTrial(w *rest.Writer, p mapping.Pathway, step object, ev mapping.Event) error {
	if ev.Fact != rules.FactTrialPositive {
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
	if !r.Positive {
		issues := make([]fhir.Issue, len(r.Issues))
		for i, is := range r.Issues {
			is.Severity = fhir.SeverityError
			is.Diagnostics = "the trial is not positive: " + is.Diagnostics
			issues[i] = is
		}
		return fhir.Issues(http.StatusUnprocessableEntity, issues...)
	}
	w.Warn(r.Issues...)
	return nil
}
