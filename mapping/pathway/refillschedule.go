package pathway

import (
	"fmt"
	"math"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// pumpContent reads the volume instilled (mL) and the programmed flow (mL/d) of a
// refill or implantation Procedure (or a discharge resource that carries them).
func pumpContent(m object) (volume, flow float64, ok bool) {
	v, okV := quantityExt(m, mapping.ExtVolumeInstilled, "mL")
	f, okF := quantityExt(m, mapping.ExtFlowRate, "mL/d")
	return v, f, okV && okF && f > 0
}

// latestPumpContent finds the patient's latest Procedure (refill or implantation)
// that says what the pump holds and its flow, and when it was filled: the
// discharge's first refill is set from the filling at implantation (000 §XI).
func latestPumpContent(w *rest.Writer, subject string) (volume, flow float64, filled time.Time, ok bool, err error) {
	procs, err := ofPatient(w, "Procedure", subject)
	if err != nil {
		return 0, 0, time.Time{}, false, err
	}
	for _, b := range procs {
		p := decode(b)
		v, f, has := pumpContent(p)
		at, dated := parseDay(str(p, "performedDateTime"))
		if has && dated && (!ok || at.After(filled)) {
			volume, flow, filled, ok = v, f, at, true
		}
	}
	return volume, flow, filled, ok, nil
}

// scheduleRefill computes the next refill of a refill or a discharge (000 §XIII, 001;
// 000 §XI: the first refill date is given before discharge) from the reservoir volume
// and the daily flow counted from the filling (the refill itself, or at discharge the
// latest implantation or refill Procedure that says them), capped to the refill
// window (mapping.PlanRefill), and sets it on
// the event: the pathway records it on the CarePlan's refill activity beside the
// EHR's date and schedules the earlier of the two. The date is returned with the
// write's outcome; when the EHR's date differs, both are kept and a warning says why.
func scheduleRefill(w *rest.Writer, step object, ev *mapping.Event) error {
	if ev.Fact != rules.FactRefill && ev.Fact != rules.FactDischarge {
		return nil
	}
	volume, flow, ok := pumpContent(step)
	filled := ev.At // a refill fills the pump when it is done
	if !ok && ev.Fact == rules.FactDischarge {
		var err error
		if volume, flow, filled, ok, err = latestPumpContent(w, subjectOf(step)); err != nil {
			return err
		}
	}
	if !ok {
		return nil // checkRefill already said what is missing on a refill
	}
	plan := mapping.PlanRefill(filled, volume, flow, ev.NextRefill, rules.DefaultConfig())
	if plan.Next.IsZero() {
		return nil
	}
	ev.ComputedNextRefill = plan.Next
	win := rules.RefillWindow()
	day := func(t interface{ Format(string) string }) string { return t.Format("2006-01-02") }
	w.Warn(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational", Expression: []string{"Procedure.extension"},
		Diagnostics: fmt.Sprintf("next refill computed: %s, from %g mL at %g mL/d (dry on %s, %d days before, within %s to %s) (000 §XIII, 001)",
			day(rules.DayOf(plan.Next)), volume, flow, day(rules.DayOf(plan.DryDate)), rules.DefaultConfig().RefillSafetyDays, win.Min, win.Max),
		Details: &fhir.CodeableText{Coding: []fhir.Coding{{System: mapping.CodeSystemSeed, Code: "000 §XIII"}}, Text: "000 §XIII, 001"}})
	if ev.NextRefill.IsZero() || rules.DayOf(ev.NextRefill).Equal(rules.DayOf(plan.Next)) {
		return nil
	}
	diff := int(math.Round(rules.DayOf(ev.NextRefill).Sub(rules.DayOf(plan.Next)).Hours() / 24))
	why := fmt.Sprintf("%d days later than the reservoir allows with %d days of margin", diff, rules.DefaultConfig().RefillSafetyDays)
	switch {
	case ev.NextRefill.After(plan.DryDate):
		why = fmt.Sprintf("after the day the pump runs dry (%s)", day(rules.DayOf(plan.DryDate)))
	case diff < 0:
		why = fmt.Sprintf("%d days earlier than the reservoir requires", -diff)
	}
	sched := ev.NextRefill
	if plan.Next.Before(sched) {
		sched = plan.Next
	}
	w.Warn(fhir.Issue{Severity: fhir.SeverityWarning, Code: "business-rule", Expression: []string{"Procedure.extension:nextRefillDate"},
		Diagnostics: fmt.Sprintf("the next refill date sent (%s) differs from the date computed from the reservoir (%s): %s; both are kept on the CarePlan, the pathway schedules %s (000 §XIII, 001)",
			day(rules.DayOf(ev.NextRefill)), day(rules.DayOf(plan.Next)), why, day(rules.DayOf(sched))),
		Details: &fhir.CodeableText{Coding: []fhir.Coding{{System: mapping.CodeSystemSeed, Code: "000 §XIII"}}, Text: "000 §XIII, 001"}})
	return nil
}
