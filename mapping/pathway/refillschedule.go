package pathway

import (
	"bytes"
	"encoding/json"
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

// refillPlan computes the next refill of a refill or a discharge (000 §XIII, 001;
// 000 §XI: the first refill date is given before discharge) from the reservoir volume
// and the daily flow counted from the filling (the refill itself, or at discharge the
// latest implantation or refill Procedure that says them), capped to the refill
// window (mapping.PlanRefill). ok is false when the step is neither, or says no
// volume and flow (checkRefill says what is missing on a refill).
func refillPlan(w *rest.Writer, step object, ev mapping.Event) (plan mapping.RefillPlan, volume, flow float64, ok bool, err error) {
	if ev.Fact != rules.FactRefill && ev.Fact != rules.FactDischarge {
		return plan, 0, 0, false, nil
	}
	volume, flow, ok = pumpContent(step)
	filled := ev.At // a refill fills the pump when it is done
	if !ok && ev.Fact == rules.FactDischarge {
		if volume, flow, filled, ok, err = latestPumpContent(w, subjectOf(step)); err != nil {
			return plan, 0, 0, false, err
		}
	}
	if !ok {
		return plan, 0, 0, false, nil
	}
	plan = mapping.PlanRefill(filled, volume, flow, ev.NextRefill, rules.DefaultConfig())
	return plan, volume, flow, !plan.Next.IsZero(), nil
}

// refillCarriers are the types a refill or a discharge is recorded on that the guide
// lets carry the computed date (the extension's context): a refill Procedure, a
// discharge Encounter. Another resource standing for the step gets the date on the
// CarePlan and in the response only.
var refillCarriers = map[string]bool{"Procedure": true, "Encounter": true}

var _ rest.PreStoreHook = (*Hook)(nil)

// BeforeStore implements rest.PreStoreHook: a refill or a discharge is stored with the
// next refill date the gateway computed (mapping.ExtComputedNextRefill), in the same
// version the client wrote, so that the refill resource itself says both dates: the
// EHR's own (mapping.ExtNextRefill, left as sent) and the computed one (000 §XIII,
// 001). A computed date the client sent is replaced by the gateway's, or removed when
// none can be computed (on any Procedure or Encounter of the guide): only the gateway
// computes it. Anything else is left as it is; a step the pathway refuses is refused
// by AfterWrite.
func (h *Hook) BeforeStore(w *rest.Writer, typ, _ string, body []byte) ([]byte, error) {
	if !refillCarriers[typ] || !mapping.IsStepCandidate(typ, body) {
		return body, nil
	}
	ev, ok, err := mapping.ReadEvent(body, mapping.Actor{})
	if err != nil {
		return body, nil // refused by AfterWrite, which names what is missing
	}
	if !ok || (ev.Fact != rules.FactRefill && ev.Fact != rules.FactDischarge) {
		return withExtension(body, mapping.ExtComputedNextRefill, nil) // no step of the schedule: nothing computed
	}
	step := decode(body)
	plan, _, _, planned, err := refillPlan(w, step, ev)
	if err != nil {
		return nil, err
	}
	var computed any
	if planned {
		computed = mapping.ComputedNextRefillExtension(plan.Next)
	}
	return withExtension(body, mapping.ExtComputedNextRefill, computed)
}

// withExtension returns body with its extensions of url replaced by ext (removed when
// ext is nil); every other member stays as the client sent it.
func withExtension(body []byte, url string, ext any) ([]byte, error) {
	if ext == nil && !bytes.Contains(body, []byte(url)) {
		return body, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return body, nil // not an object: the write's own checks refuse it
	}
	var exts []json.RawMessage
	if raw, ok := top["extension"]; ok && json.Unmarshal(raw, &exts) != nil {
		return body, nil // not a list: the profile check has refused it already
	}
	kept := make([]any, 0, len(exts)+1)
	found := false
	for _, e := range exts {
		var head struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(e, &head) == nil && head.URL == url {
			found = true
			continue
		}
		kept = append(kept, e)
	}
	if ext == nil && !found {
		return body, nil
	}
	if ext != nil {
		kept = append(kept, ext)
	}
	if len(kept) == 0 {
		return fhir.SetMembers(body, nil, "extension")
	}
	return fhir.SetMembers(body, []fhir.Member{{Key: "extension", Value: kept}})
}

// refillDue is the next refill computed for a refill or a discharge (scheduleRefill),
// zero for anything else. The step is read without its actor: the schedule does not
// depend on who recorded it, and AfterWrite runs it with the clinical checks, before
// their warnings become DetectedIssues. A step that cannot be read is refused later,
// with its actor.
func refillDue(w *rest.Writer, rec *fhir.Record) (time.Time, error) {
	if !mapping.IsStepCandidate(rec.Type, rec.Body) {
		return time.Time{}, nil
	}
	ev, ok, err := mapping.ReadEvent(rec.Body, mapping.Actor{})
	if !ok || err != nil || (ev.Fact != rules.FactRefill && ev.Fact != rules.FactDischarge) {
		return time.Time{}, nil
	}
	if err := scheduleRefill(w, decode(rec.Body), &ev); err != nil {
		return time.Time{}, err
	}
	return ev.ComputedNextRefill, nil
}

// scheduleRefill sets the computed next refill of a refill or a discharge
// (refillPlan) on the event: the pathway records it on the CarePlan's refill activity
// beside the EHR's date and schedules the earlier of the two (BeforeStore has put it
// on the refill resource itself). The date is returned with the write's outcome; when
// the EHR's date differs, both are kept and a warning, recorded as a DetectedIssue,
// says why.
func scheduleRefill(w *rest.Writer, step object, ev *mapping.Event) error {
	plan, volume, flow, ok, err := refillPlan(w, step, *ev)
	if err != nil || !ok {
		return err
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
	// both elements are named: the issue is told apart from the dry-pump alert on the
	// EHR's date (the same rule, section and element), and gets its own DetectedIssue
	typ := str(step, "resourceType")
	w.Warn(fhir.Issue{Severity: fhir.SeverityWarning, Code: "business-rule",
		Expression: []string{typ + ".extension:nextRefillDate", typ + ".extension:computedNextRefillDate"},
		Diagnostics: fmt.Sprintf("the next refill date sent (%s) differs from the date computed from the reservoir (%s): %s; both are kept on the refill and the CarePlan, the pathway schedules %s (000 §XIII, 001)",
			day(rules.DayOf(ev.NextRefill)), day(rules.DayOf(plan.Next)), why, day(rules.DayOf(sched))),
		Details: &fhir.CodeableText{Coding: []fhir.Coding{{System: mapping.CodeSystemSeed, Code: "000 §XIII"}}, Text: "000 §XIII, 001"}})
	return nil
}
