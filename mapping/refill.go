package mapping

import (
	"fmt"
	"math"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// RefillPlan is the schedule after a refill (000 §XIII, 001).
type RefillPlan struct {
	// DryDate is when the reservoir runs empty at the programmed flow.
	DryDate time.Time
	// Next is the proposed next refill: RefillSafetyDays before the dry date, within
	// 3 weeks to 3 months of the refill.
	Next time.Time
	// RunsDry: the pump would run dry before the refill already scheduled.
	RunsDry bool
	Issues  []fhir.Issue
}

// PlanRefill computes the next refill from the reservoir content (mL) and the daily
// flow (mL/d) after a refill at date at. scheduled, when not zero, is the refill date
// already booked: an alert (error) is raised if the pump would run dry before it.
func PlanRefill(at time.Time, reservoirML, flowMLPerDay float64, scheduled time.Time, cfg rules.Config) RefillPlan {
	var p RefillPlan
	add := func(sev, expr, section, format string, args ...any) {
		p.Issues = append(p.Issues, fhir.Issue{Severity: sev, Code: "business-rule", Expression: []string{expr},
			Diagnostics: fmt.Sprintf(format, args...) + " (" + section + ")", Details: seedDetails(section)})
	}
	lo, hi := rules.ReservoirMin, rules.ReservoirMax
	if reservoirML < lo.Value || reservoirML > hi.Value {
		add(fhir.SeverityError, "Device.property", lo.Section, "reservoir %g mL outside %g-%g mL", reservoirML, lo.Value, hi.Value)
	}
	if flowMLPerDay <= 0 {
		add(fhir.SeverityError, "MedicationRequest.dosageInstruction.doseAndRate.rateQuantity", "000 §XIII", "flow must be positive to schedule refills")
		return p
	}
	// Whole hours keep the dates readable; the reservoir never runs past DryDate.
	hours := math.Floor(reservoirML / flowMLPerDay * 24)
	p.DryDate = at.Add(time.Duration(hours) * time.Hour)
	p.Next = p.DryDate.AddDate(0, 0, -cfg.RefillSafetyDays)
	w := rules.RefillWindow()
	if max := w.Max.AddTo(at); p.Next.After(max) {
		p.Next = max
	}
	if min := w.Min.AddTo(at); p.Next.Before(min) {
		add(fhir.SeverityWarning, "MedicationRequest.dosageInstruction.doseAndRate.rateQuantity", w.Section,
			"refill needed %.1f days after this one, under the usual %s: check flow and boluses", p.Next.Sub(at).Hours()/24, w.Min)
	}
	if !scheduled.IsZero() && (scheduled.Before(w.Min.AddTo(at)) || scheduled.After(w.Max.AddTo(at))) {
		add(fhir.SeverityWarning, "Procedure.extension:nextRefillDate", w.Section,
			"next refill scheduled %.1f days after this one, outside the usual %s to %s", scheduled.Sub(at).Hours()/24, w.Min, w.Max)
	}
	if !scheduled.IsZero() && scheduled.After(p.DryDate) {
		p.RunsDry = true
		add(fhir.SeverityError, "Procedure.extension:nextRefillDate", "000 §XIII",
			"the pump runs dry on %s, before the scheduled refill of %s", p.DryDate.Format("2006-01-02"), scheduled.Format("2006-01-02"))
	}
	return p
}

// Centre is an implanting or refill centre (000 §I.3).
type Centre struct {
	Reference string // Organization reference
	Implants  bool   // établissement poseur
	Refills   bool   // établissement remplisseur
}

// FollowingCentre says who follows the patient after discharge (000 §I.3, §XII): the
// refill centre near home when it refills and a convention binds it to the implanting
// centre; otherwise the implanting centre's algologist.
func FollowingCentre(implanting, nearHome Centre, convention bool) (Centre, []fhir.Issue) {
	if nearHome.Reference == "" || nearHome.Reference == implanting.Reference {
		return implanting, nil
	}
	if nearHome.Refills && convention {
		return nearHome, nil
	}
	why := "is not a refill centre"
	if nearHome.Refills {
		why = "has no convention with the implanting centre"
	}
	return implanting, []fhir.Issue{{Severity: fhir.SeverityWarning, Code: "business-rule",
		Diagnostics: "the centre near home " + why + ": the implanting centre follows the patient (000 §I.3)",
		Expression:  []string{"CarePlan.careTeam"}, Details: seedDetails("000 §I.3")}}
}

// TrialResult is the verdict of the optional trial period (002).
type TrialResult struct {
	Positive bool
	ReliefPc float64
	// OMEBefore and OMEAfter are the oral morphine equivalents (mg/d) at the trial's
	// start and at its result, when computed from records (TrialFromRecords).
	OMEBefore, OMEAfter float64
	Issues              []fhir.Issue
}

// AssessTrial judges a trial: positive with at least 50 % pain relief and reduced
// medication (002). Pain is on the same scale before and during the trial.
func AssessTrial(painBefore, painDuring float64, medicationReduced bool) TrialResult {
	var r TrialResult
	if painBefore <= 0 {
		r.Issues = append(r.Issues, issue(fhir.SeverityError, "value", "Observation.value", "pain before the trial must be positive to compute relief (002)"))
		return r
	}
	r.ReliefPc = (painBefore - painDuring) / painBefore * 100
	th := rules.TrialRelief
	r.Positive = r.ReliefPc >= th.Value-1e-9 && medicationReduced
	if !r.Positive {
		r.Issues = append(r.Issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: "business-rule",
			Diagnostics: fmt.Sprintf("trial negative: %.0f %% relief (needs >= %g %%), medication reduced: %v (%s)", r.ReliefPc, th.Value, medicationReduced, th.Section),
			Expression:  []string{"Observation.value"}, Details: seedDetails(th.Section)})
	}
	return r
}

// ExtComputedNextRefill carries the next refill date the gateway computed from the
// reservoir and the flow (000 §XIII, 001), beside the EHR's ExtNextRefill.
const ExtComputedNextRefill = Base + "/StructureDefinition/ait-computed-next-refill-date"

// refillStep is the code of the refill step's CarePlan activity (000 §XIII).
const refillStep = "refill"

// refillDates renders the next refill dates of the refill activity: the EHR's and the
// computed one (both kept when they differ).
func (p Pathway) refillDates() []any {
	var out []any
	if !p.RefillDueEHR.IsZero() {
		out = append(out, map[string]any{"url": ExtNextRefill, "valueDateTime": p.RefillDueEHR.UTC().Format(time.RFC3339)})
	}
	if !p.RefillDueComputed.IsZero() {
		out = append(out, ComputedNextRefillExtension(p.RefillDueComputed))
	}
	return out
}

// ComputedNextRefillExtension renders the computed next refill date as the guide's
// extension, the same on the refill resource, the discharge and the CarePlan activity
// so that a reader compares them as they are.
func ComputedNextRefillExtension(next time.Time) map[string]any {
	return map[string]any{"url": ExtComputedNextRefill, "valueDateTime": next.UTC().Format(time.RFC3339)}
}
