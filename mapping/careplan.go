package mapping

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// ActivityStatus is a CarePlan activity status (R4 care-plan-activity-status).
type ActivityStatus string

// Activity statuses used by the pathway.
const (
	NotStarted ActivityStatus = "not-started"
	Scheduled  ActivityStatus = "scheduled"
	InProgress ActivityStatus = "in-progress"
	Completed  ActivityStatus = "completed"
	Cancelled  ActivityStatus = "cancelled"
)

// StepView is a step as the CarePlan shows it.
type StepView struct {
	Step    rules.Step
	Status  ActivityStatus
	Start   time.Time // scheduled window; zero when open
	End     time.Time
	Overdue bool
}

// View computes each step's status and scheduled window.
func (p Pathway) View() []StepView {
	var out []StepView
	for _, s := range p.Steps() {
		v := StepView{Step: s, Status: NotStarted}
		if d, ok := rules.DeadlineByName(s.Deadline); ok {
			if after, ok := p.Facts[d.After]; ok && p.active(d.When, d.Unless) {
				v.Start = d.Min.Earliest(after.At)
				if end, has := deadlineOf(d, after); has {
					v.End = end
				}
				v.Status = Scheduled
				v.Overdue = p.Overdue[d.Name]
			}
		}
		for _, f := range s.StartedBy {
			if p.Has(f) {
				v.Status = InProgress
			}
		}
		if len(s.DoneBy) > 0 {
			done := true
			for _, f := range s.DoneBy {
				done = done && p.Has(f)
			}
			if done {
				v.Status = Completed
				v.Overdue = false
			}
		}
		if p.Stopped && v.Status != Completed {
			v.Status = Cancelled
		}
		out = append(out, v)
	}
	return out
}

// CarePlanJSON renders the pathway as the AITCarePlan (or the IR CarePlan): one
// activity per step with its status, scheduled window and overdue flag, and the state
// in an extension.
func CarePlanJSON(p Pathway) []byte {
	profile := ProfileCarePlan
	if p.Kind == KindIR {
		profile = ProfileIRCarePlan
	}
	status := "active"
	if p.Stopped {
		status = "revoked"
	}
	category := CodePathwayCategory
	if p.Kind == KindIR {
		category = CodeIRCategory // the IR CarePlan profile requires ait|ir-pathway
	}
	var acts []any
	for _, v := range p.View() {
		if v.Start.IsZero() && v.End.IsZero() {
			// no deadline row: the window opens when the step's first fact was recorded
			v.Start = p.firstFact(append(append([]string{}, v.Step.StartedBy...), v.Step.DoneBy...))
		}
		detail := map[string]any{
			"code": map[string]any{"coding": []any{map[string]any{
				"system": CodeSystemAIT, "code": v.Step.Code, "display": v.Step.Display}}},
			"status":      string(v.Status),
			"description": fmt.Sprintf("Step %d: %s (%s)", v.Step.Number, v.Step.Display, v.Step.Section),
		}
		if !v.Start.IsZero() || !v.End.IsZero() {
			per := map[string]any{}
			if !v.Start.IsZero() {
				per["start"] = v.Start.UTC().Format(time.RFC3339)
			}
			if !v.End.IsZero() {
				per["end"] = v.End.UTC().Format(time.RFC3339)
			}
			detail["scheduledPeriod"] = per
		}
		var ext []any
		if v.Overdue {
			ext = append(ext, map[string]any{"url": ExtOverdue, "valueBoolean": true})
		}
		if d, ok := rules.DeadlineByName(v.Step.Deadline); ok {
			ext = append(ext, map[string]any{"url": ExtDeadlineSection, "valueString": d.Why + " (" + d.Section + ")"})
		}
		if v.Step.Code == refillStep {
			ext = append(ext, p.refillDates()...)
		}
		if ext != nil {
			detail["extension"] = ext
		}
		acts = append(acts, map[string]any{"detail": detail})
	}
	state, _ := json.Marshal(p)
	cp := map[string]any{
		"resourceType": "CarePlan",
		"meta":         map[string]any{"profile": []any{profile}},
		"extension":    []any{map[string]any{"url": ExtPathwayState, "valueString": string(state)}},
		"status":       status,
		"intent":       "plan",
		"category": []any{map[string]any{"coding": []any{map[string]any{
			"system": CodeSystemAIT, "code": category}}}},
		"title":    map[string]string{KindAIT: "AIT pathway (000 §III)", KindIR: "IR pathway (003)"}[p.Kind],
		"activity": acts,
	}
	if p.Identifier != "" {
		cp["identifier"] = []any{map[string]any{"system": IdentifierCarePlan, "value": p.Identifier}}
	}
	if p.Subject != "" {
		cp["subject"] = map[string]any{"reference": p.Subject}
	}
	if p.Author != "" {
		cp["author"] = map[string]any{"reference": p.Author}
	}
	// R4's CarePlan.basedOn takes CarePlans only, and addresses Conditions only:
	// supportingInfo (any resource) names the referral that opened the pathway, first,
	// then the clinical issues the rules raised on it.
	var info []any
	if p.BasedOn != "" {
		info = append(info, map[string]any{"reference": p.BasedOn, "display": referralDisplay})
	}
	for _, r := range p.Issues {
		info = append(info, map[string]any{"reference": r, "display": "clinical issue raised by the pathway rules"})
	}
	if len(info) > 0 {
		cp["supportingInfo"] = info
	}
	b, _ := json.Marshal(cp) // maps of strings: cannot fail
	return b
}

// firstFact returns the earliest date among the recorded facts, or zero.
func (p Pathway) firstFact(facts []string) time.Time {
	var first time.Time
	for _, f := range facts {
		if x, ok := p.Facts[f]; ok && (first.IsZero() || x.At.Before(first)) {
			first = x.At
		}
	}
	return first
}

// PathwayFromCarePlan resumes the pathway state stored in a CarePlan by CarePlanJSON.
func PathwayFromCarePlan(careplan []byte) (Pathway, error) {
	m, err := decodeObject(careplan)
	if err != nil {
		return Pathway{}, fhir.Errorf(http.StatusBadRequest, "structure", "CarePlan", "not a JSON object")
	}
	for _, e := range objs(m, "extension") {
		if str(e, "url") == ExtPathwayState {
			var p Pathway
			if err := json.Unmarshal([]byte(str(e, "valueString")), &p); err != nil {
				break
			}
			if p.Facts == nil {
				p.Facts = map[string]Fact{}
			}
			if p.Overdue == nil {
				p.Overdue = map[string]bool{}
			}
			// The transaction rewrote the references of the CarePlan itself (urn:uuid to
			// Type/id), not those inside the state string: the CarePlan's win.
			if s := str(obj(m, "subject"), "reference"); s != "" {
				p.Subject = s
			}
			if a := str(obj(m, "author"), "reference"); a != "" {
				p.Author = a
			}
			if r := CarePlanReferral(m); r != "" {
				p.BasedOn = r
			}
			return p, nil
		}
	}
	return Pathway{}, fhir.Errorf(http.StatusUnprocessableEntity, "invariant", "CarePlan.extension",
		"the CarePlan holds no pathway state (%s)", ExtPathwayState)
}

// referralDisplay marks, in a pathway CarePlan's supportingInfo, the referral that
// opened the pathway.
const referralDisplay = "the referral that opened this pathway"

// CarePlanReferral returns the referral a pathway CarePlan was opened by: the first
// ServiceRequest of its supportingInfo, or, for CarePlans stored before R4's type
// rules were enforced, its basedOn.
func CarePlanReferral(cp map[string]any) string {
	for _, s := range objs(cp, "supportingInfo") {
		if r := str(s, "reference"); strings.HasPrefix(r, "ServiceRequest/") || strings.HasPrefix(r, "urn:uuid:") && str(s, "display") == referralDisplay {
			return r
		}
	}
	if b := objs(cp, "basedOn"); len(b) > 0 {
		return str(b[0], "reference")
	}
	return ""
}
