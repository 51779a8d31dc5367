package mapping

import (
	"fmt"
	"net/http"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Pathway kinds.
const (
	KindAIT = "ait" // intrathecal analgesia, 10 steps (000 §III)
	KindIR  = "ir"  // interventional radiology (003)
)

// Fact is a recorded step fact: when it happened and its order of recording, so that a
// repeated fact (refills) can be told from the cycle it answers.
type Fact struct {
	At  time.Time `json:"at"`
	Seq int       `json:"seq"`
}

// Pathway is the state of one patient's pathway: the facts recorded so far and the
// deadlines already flagged. It is a value: Apply returns a new one.
type Pathway struct {
	Kind string `json:"kind"`
	// Subject and BasedOn are the Patient and the referral ServiceRequest references.
	Subject string `json:"subject,omitempty"`
	BasedOn string `json:"basedOn,omitempty"`
	// Identifier is the CarePlan's business identifier (system IdentifierCarePlan).
	Identifier string `json:"identifier,omitempty"`
	// Author is the coordinating algologist (CarePlan.author), once known: the
	// practitioner who records the RCP decision or the algology consultation (000 §VI-§VII).
	Author string          `json:"author,omitempty"`
	Facts  map[string]Fact `json:"facts"`
	Seq    int             `json:"seq"`
	// Overdue holds the names of the deadlines (rules.Deadlines) flagged overdue.
	Overdue map[string]bool `json:"overdue,omitempty"`
	// Technique is the technique decided at the RCP (rules.Technique*.Code).
	Technique string `json:"technique,omitempty"`
	// PlannedImplantation is the date set at planning (000 §VIII).
	PlannedImplantation time.Time `json:"plannedImplantation,omitzero"`
	Refills             int       `json:"refills"`
	// RefillDueEHR and RefillDueComputed are the next refill dates of the last
	// discharge or refill: as the EHR sent it, and as computed from the reservoir and
	// the flow (000 §XIII, 001). Both are kept; the pathway schedules the earlier.
	RefillDueEHR      time.Time `json:"refillDueEHR,omitzero"`
	RefillDueComputed time.Time `json:"refillDueComputed,omitzero"`
	// Stopped: the RCP refused the indication; no further step is accepted.
	Stopped bool `json:"stopped,omitempty"`
	// Issues are the DetectedIssues the clinical rules raised on the pathway's
	// resources (references), linked from the CarePlan's supportingInfo.
	Issues []string `json:"issues,omitempty"`
}

// WithIssue returns the pathway with a DetectedIssue reference linked (once).
func (p Pathway) WithIssue(ref string) (Pathway, bool) {
	for _, r := range p.Issues {
		if r == ref {
			return p, false
		}
	}
	q := p.clone()
	q.Issues = append(append([]string{}, p.Issues...), ref)
	return q, true
}

// Event is a step resource posted to the pathway, reduced to what the rules need.
type Event struct {
	// Fact is what the resource establishes (rules.Fact*).
	Fact  string
	At    time.Time
	Actor Actor
	// Accepted and Technique: the RCP decision (000 §VI).
	Accepted  bool
	Technique string
	// Consent: the algology consultation collected the patient's consent (000 §VII).
	Consent bool
	// Planned: the implantation date set at planning (000 §VIII).
	Planned time.Time
	// OnMethadone: the patient is on methadone (admission 48 h before, 000 §X).
	OnMethadone bool
	// NextRefill: the next refill date, set at discharge and at each refill (000 §XI, §XIII).
	NextRefill time.Time
	// ComputedNextRefill: the next refill date computed from the reservoir volume and
	// the flow (PlanRefill); the earlier of the two is scheduled.
	ComputedNextRefill time.Time
	// RefillCentreDiffers: the refill centre is not the implanting centre (000 §XI).
	RefillCentreDiffers bool
	// Detail is a short text carried into the milestones (no patient data).
	Detail string
}

// Actor is who recorded a step.
type Actor struct {
	Role      rules.Role
	Reference string
}

// Milestone is an event of "Who is told what", ready for the notification service.
type Milestone struct {
	Code       string       `json:"code"`
	Display    string       `json:"display"`
	Recipients []rules.Role `json:"recipients"`
	Section    string       `json:"section"`
	At         time.Time    `json:"at"`
	// Step is the pathway step concerned, Detail a short text (no patient data).
	Step   string `json:"step,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// NewPathway starts a pathway of kind for a referral.
func NewPathway(kind, subject, basedOn, identifier string) Pathway {
	return Pathway{Kind: kind, Subject: subject, BasedOn: basedOn, Identifier: identifier,
		Facts: map[string]Fact{}, Overdue: map[string]bool{}}
}

// Steps returns the step table of the pathway's kind.
func (p Pathway) Steps() []rules.Step {
	if p.Kind == KindIR {
		return rules.IRSteps
	}
	return rules.AITSteps
}

func (p Pathway) clone() Pathway {
	q := p
	q.Facts = make(map[string]Fact, len(p.Facts))
	for k, v := range p.Facts {
		q.Facts[k] = v
	}
	q.Overdue = make(map[string]bool, len(p.Overdue))
	for k, v := range p.Overdue {
		q.Overdue[k] = v
	}
	return q
}

func (p *Pathway) record(fact string, at time.Time) {
	p.Seq++
	p.Facts[fact] = Fact{At: at, Seq: p.Seq}
}

// Has reports whether a fact is recorded.
func (p Pathway) Has(fact string) bool { _, ok := p.Facts[fact]; return ok }

// refuse builds the 422 of an out-of-order or unsafe step.
func refuse(expr, section, format string, args ...any) error {
	return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{
		Severity: fhir.SeverityError, Code: "business-rule",
		Diagnostics: fmt.Sprintf(format, args...) + " (" + section + ")",
		Expression:  []string{expr}, Details: seedDetails(section)})
}

// knownFact reports whether fact is a step fact of the pathway's kind.
func (p Pathway) knownFact(fact string) bool {
	facts := rules.AITFacts
	if p.Kind == KindIR {
		facts = rules.IRFacts
	}
	for _, f := range facts {
		if f == fact {
			return true
		}
	}
	return false
}

// active reports whether a When/Unless-conditioned row applies to the pathway.
func (p Pathway) active(when, unless string) bool {
	return (when == "" || p.Has(when)) && (unless == "" || !p.Has(unless))
}

// Apply records a step event. An event out of order, by the wrong actor or breaking a
// minimum delay is refused with a 422 *fhir.Error naming the rule and its seed
// section; a maximum delay passed is recorded, flagged overdue and raised as a
// milestone. Apply never modifies p.
func Apply(p Pathway, ev Event) (Pathway, []Milestone, error) {
	if p.Stopped {
		return p, nil, refuse("CarePlan.status", "000 §VI", "the pathway ended with a refusal at the RCP: no further step is recorded")
	}
	if !p.knownFact(ev.Fact) {
		return p, nil, refuse("CarePlan.activity", "000 §III", "%q is not a step of the %s pathway", ev.Fact, p.Kind)
	}
	if ev.At.IsZero() {
		return p, nil, refuse("CarePlan.activity.detail.scheduled", "000 §III", "the %s has no date", ev.Fact)
	}
	q := p.clone()
	// Facts the event carries with it are visible to its own checks.
	if ev.OnMethadone {
		q.record(rules.ConditionMethadone, ev.At)
	}
	if ev.Consent {
		q.record(rules.FactConsent, ev.At)
	}
	if ev.Fact == rules.FactRCPDecision && ev.Accepted {
		q.record(rules.FactRCPAccepted, ev.At)
	}
	next := ev.scheduledRefill()
	if ev.Fact == rules.FactDischarge && !next.IsZero() {
		q.record(rules.FactRefillDue, next)
	}
	for _, r := range rules.Requirements {
		if r.Fact == ev.Fact && q.active(r.When, "") && !q.Has(r.Needs) {
			return p, nil, refuse("CarePlan.activity", r.Section, "%s refused: %s", ev.Fact, r.Why)
		}
	}
	for _, r := range rules.ActorRules {
		if r.Fact == ev.Fact && !r.Roles[ev.Actor.Role] {
			return p, nil, refuse("CarePlan.activity.detail.performer", r.Section, "%s refused: %s, not a %q", ev.Fact, r.Why, ev.Actor.Role)
		}
	}
	var ms []Milestone
	for _, d := range rules.DeadlinesInEffect() {
		after, ok := q.Facts[d.After]
		if d.Of != ev.Fact || !ok || !q.active(d.When, d.Unless) {
			continue
		}
		if !d.Min.IsZero() && !minKept(d, after.At, ev.At) {
			return p, nil, refuse("CarePlan.activity", d.Section, "%s refused: %s (%s recorded %s, %s requested %s)",
				ev.Fact, d.Why, d.After, after.At.Format(time.RFC3339), ev.Fact, ev.At.Format(time.RFC3339))
		}
		if due, has := deadlineOf(d, after); has && ev.At.After(due) && !q.Overdue[d.Name] && pending(q, d) {
			q.Overdue[d.Name] = true
			ms = append(ms, overdueMilestone(d, ev.At, due))
		}
	}
	q.record(ev.Fact, ev.At)
	switch ev.Fact {
	case rules.FactRCPDecision:
		q.Technique = ev.Technique
		q.Stopped = !ev.Accepted
	case rules.FactPlanning:
		q.PlannedImplantation = ev.Planned
	case rules.FactRefill:
		q.Refills++
		if !next.IsZero() {
			q.record(rules.FactRefillDue, next)
			delete(q.Overdue, "refill-due") // a new cycle opens
		}
	}
	if (ev.Fact == rules.FactRefill || ev.Fact == rules.FactDischarge) && !next.IsZero() {
		q.RefillDueEHR, q.RefillDueComputed = ev.NextRefill, ev.ComputedNextRefill
	}
	for _, m := range rules.Milestones {
		for _, on := range m.On {
			if on == ev.Fact {
				ms = append(ms, milestone(m, ev.At, ev.Fact, ev.Detail, ev.RefillCentreDiffers))
			}
		}
	}
	return q, ms, nil
}

// minKept checks a minimum delay: hour rows count exact hours, day rows calendar days
// in the site's zone ("the day before": any hour of the previous local day).
func minKept(d rules.Deadline, after, at time.Time) bool {
	return !at.Before(d.Min.Earliest(after))
}

// deadlineOf returns the last instant of a deadline row (rules.Span.Due): day rows end
// with the local calendar day; a row with neither bound (refill-due) falls due at the
// end of its anchor's own day.
func deadlineOf(d rules.Deadline, after Fact) (time.Time, bool) {
	switch {
	case !d.Max.IsZero():
		return d.Max.Due(after.At), true
	case d.Min.IsZero():
		return rules.Span{}.Due(after.At), true
	}
	return time.Time{}, false
}

// pending reports whether the Of fact of d still answers to the current After fact:
// never recorded, or recorded before the After fact was (an earlier cycle).
func pending(p Pathway, d rules.Deadline) bool {
	of, ok := p.Facts[d.Of]
	return !ok || of.Seq < p.Facts[d.After].Seq
}

func milestone(m rules.MilestoneRule, at time.Time, step, detail string, refillCentreDiffers bool) Milestone {
	to := append([]rules.Role{}, m.Recipients...)
	if m.RefillCentreIfDifferent && refillCentreDiffers {
		to = append(to, rules.RoleRefillCentre)
	}
	return Milestone{Code: m.Code, Display: m.Display, Recipients: to, Section: m.Section, At: at, Step: step, Detail: detail}
}

// scheduledRefill is the next refill the pathway schedules: the earlier of the EHR's
// date and the computed one (the pump must not run dry), either when alone.
func (ev Event) scheduledRefill() time.Time {
	a, b := ev.NextRefill, ev.ComputedNextRefill
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func overdueMilestone(d rules.Deadline, at, due time.Time) Milestone {
	code := d.Milestone
	if code == "" {
		code = rules.MilestoneOverdue
	}
	m, _ := rules.MilestoneByCode(code)
	return milestone(m, at, d.Of, fmt.Sprintf("%s: due %s (%s)", d.Why, due.Format(time.RFC3339), d.Section), false)
}

// CheckOverdue flags the deadlines passed at time at whose step is still pending, and
// raises one milestone per newly flagged deadline (to the coordinating algologist).
func CheckOverdue(p Pathway, at time.Time) (Pathway, []Milestone) {
	q := p.clone()
	var ms []Milestone
	if p.Stopped {
		return q, nil
	}
	for _, d := range rules.DeadlinesInEffect() {
		after, ok := q.Facts[d.After]
		if !ok || q.Overdue[d.Name] || !q.active(d.When, d.Unless) || !pending(q, d) {
			continue
		}
		if due, has := deadlineOf(d, after); has && at.After(due) {
			q.Overdue[d.Name] = true
			ms = append(ms, overdueMilestone(d, at, due))
		}
	}
	return q, ms
}
