// Package pathway puts the clinical core on the wire: a rest.WriteHook that advances
// the patient's pathway CarePlan when a step resource is written and raises the
// milestones in the same transaction, and the operations $ait-dossier-status,
// $ait-referral, $mirels and $sins built on a *rest.Service.
package pathway

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Hook checks the clinical rules and advances the pathway on write. It runs on every
// write. First the clinical checks (checkClinical: prescription safety, refill
// schedule, RCP technique and indication, cimentoplasty prerequisites); then anything
// that is not a step resource (mapping.IsStepCandidate, then mapping.ReadEvent)
// returns.
//
// For a step resource it finds the patient's pathway CarePlan in the same transaction
// (CarePlan?subject=…&category=ait|ait-pathway,ait|ir-pathway, narrowed by the step's basedOn
// referral), reads the actor's role from the step's performer/owner/recorder
// (ResolveActor), applies the event (mapping.Apply: an out-of-order step, a refill by
// a non-physician, a broken minimum delay is the *fhir.Error 422 that rolls the whole
// write back), writes the updated CarePlan, and hands each milestone to the Notifier
// with its recipients resolved. When the referral's transaction creates the pathway
// CarePlan, the referral milestones (received, planned care, dossier incomplete) are
// raised the same way.
type Hook struct {
	// Notifier records the notices; nil raises none (the lead wires the notification
	// service).
	Notifier Notifier
	// OnFact, when set, runs in the write's transaction once a step's fact is applied
	// to the pathway (the hub's stored summary document is refreshed at some).
	OnFact func(ctx context.Context, w *rest.Writer, fact, patient string) error
	// Audit records an identity conflict the hook refused (ConflictAuditor.Record);
	// nil audits none. It is called inside the refused transaction and must not
	// write in it.
	Audit func(IdentityConflict)
	// StepsWithoutPathway stores a step of a patient who has no pathway with a
	// warning instead of refusing it. The gateway refuses them (000 §III); tests of
	// the clinical checks alone, which run before the pathway's, set it.
	StepsWithoutPathway bool
}

var _ rest.WriteHook = (*Hook)(nil)

// AfterWrite implements rest.WriteHook.
func (h *Hook) AfterWrite(ctx context.Context, w *rest.Writer, rec *fhir.Record) error {
	if rec == nil || rec.Deleted {
		return nil
	}
	if rec.Type == "Patient" || rec.Type == "ServiceRequest" || bytes.Contains(rec.Body, []byte(`"basedOn"`)) {
		if m := decode(rec.Body); m != nil {
			if err := h.checkIdentity(ctx, w, rec, m); err != nil {
				return err
			}
		}
	}
	before := len(w.Warnings())
	if err := h.checkClinical(ctx, w, rec); err != nil {
		return err
	}
	due, err := refillDue(w, rec) // with the clinical checks: a differing date is a DetectedIssue too
	if err != nil {
		return err
	}
	if raised := w.Warnings()[before:]; len(raised) > 0 || rec.Version > 1 && !gatewayRecord(rec.Type) {
		// whatever rule raised them: recorded as DetectedIssues; an update may resolve some
		if err := h.recordIssues(w, rec, append([]fhir.Issue{}, raised...)); err != nil {
			return err
		}
	}
	if isReferral(rec.Type, rec.Body) {
		if !fromIntake(ctx) { // the intake checks its patient before its transaction, whose order it does not set
			if err := referralPatientExists(w, rec); err != nil {
				return err
			}
		}
		if rec.Version == 1 && !fromIntake(ctx) {
			return h.openPathway(w, rec) // stored alone or in a batch: its pathway opens here
		}
		return nil // the intake's transaction carries the pathway CarePlan itself: no step
	}
	if rec.Type == "CarePlan" {
		if rec.Version == 1 && strings.Contains(string(rec.Body), mapping.ExtPathwayState) {
			return h.referralCreated(ctx, w, rec)
		}
		return nil
	}
	if !mapping.IsStepCandidate(rec.Type, rec.Body) {
		return nil
	}
	step := decode(rec.Body)
	if step == nil {
		return nil
	}
	actor, err := ResolveActor(w.Tx(), step)
	if err != nil {
		return err
	}
	ev, ok, err := mapping.ReadEvent(rec.Body, actor)
	if !ok {
		return err
	}
	if err != nil {
		return err
	}
	ev.ComputedNextRefill = due // the computed next refill (000 §XI, §XIII)
	cpID, cpBody, err := findCarePlan(w, step)
	if err != nil {
		return err
	}
	if cpBody == nil {
		if h.StepsWithoutPathway || rec.Type == "Consent" && !bytes.Contains(rec.Body, []byte(mapping.Base+"/")) {
			// a consent that does not name the guide is no business of the pathway
			w.Warn(fhir.Issue{Severity: fhir.SeverityWarning, Code: "not-found", Expression: []string{rec.Type + ".subject"},
				Diagnostics: "the " + ev.Fact + " step was stored but the patient has no AIT or IR pathway CarePlan: no pathway rule was checked (000 §III)"})
			return nil
		}
		return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
			Expression: []string{rec.Type + ".subject", rec.Type + ".basedOn"}, Details: seedCoding("000 §III"),
			Diagnostics: "the " + ev.Fact + " step names no open pathway: the patient has no AIT or IR pathway CarePlan (open one with a referral, $ait-referral): nothing was written (000 §III)"})
	}
	p, err := loadPathway(w, cpID, rec.Type+"/"+rec.ID)
	if err != nil {
		return err
	}
	if err := checkTrial(w, p, step, ev); err != nil { // the trial's result from the records (002)
		return err
	}
	if f, done := p.Facts[ev.Fact]; done && rec.Version == 1 && !rules.RepeatableFacts[ev.Fact] && !p.Stopped {
		return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "duplicate",
			Expression: []string{rec.Type}, Details: seedCoding("000 §III"),
			Diagnostics: "duplicate step: the " + ev.Fact + " of this pathway is already recorded (" + f.At.UTC().Format(time.RFC3339) +
				"); correct it by updating the resource that recorded it: nothing was written (000 §III)"})
	}
	q, ms, err := mapping.Apply(p, ev)
	if err != nil {
		return err
	}
	q, overdue := mapping.CheckOverdue(q, ev.At)
	ms = append(ms, overdue...)
	if q.Author == "" && actor.Role == rules.RoleAlgologist && actor.Reference != "" {
		q.Author = actor.Reference // the coordinating algologist (pathways.md, Actors)
	}
	if err := savePathway(w, cpID, q); err != nil {
		return err
	}
	about := []string{rec.Type + "/" + rec.ID, "CarePlan/" + cpID}
	if err := h.notify(ctx, w, q, step, about, ms); err != nil || h.OnFact == nil {
		return err
	}
	return h.OnFact(ctx, w, ev.Fact, q.Subject)
}

// referralCreated raises the milestones of a referral when its transaction creates
// the pathway CarePlan (000 §V-VI): the referral's resources are already in the
// transaction, so recipients and the dossier's gaps are read from them.
func (h *Hook) referralCreated(ctx context.Context, w *rest.Writer, rec *fhir.Record) error {
	p, err := mapping.PathwayFromCarePlan(rec.Body)
	if err != nil || !(p.Has(rules.FactReferral) || p.Has(rules.FactIRRequest)) {
		return nil // not a pathway this hook made sense of: left as written
	}
	// the intake wrote this CarePlan (clients cannot: GatewayState): its state is
	// recorded as the gateway's from now on
	if raw, err := w.Tx().GetAux(stateNS, rec.ID); err != nil {
		return err
	} else if raw == nil {
		if err := recordState(w.Tx(), rec.ID, p); err != nil {
			return err
		}
	}
	if !p.Has(rules.FactReferral) {
		return nil // an IR request: no AIT referral milestones
	}
	at := p.Facts[rules.FactReferral].At
	_, ms, err := mapping.Apply(mapping.NewPathway(p.Kind, p.Subject, p.BasedOn, p.Identifier), mapping.Event{Fact: rules.FactReferral, At: at})
	if err != nil {
		return err
	}
	if !p.Has(rules.FactDossierComplete) {
		var missing []fhir.Issue
		if _, id, ok := split(p.BasedOn); ok {
			if d, err := mapping.LoadDossier(txRecords{w}, id); err == nil {
				missing = mapping.CheckDossier(d, at)
			}
		}
		ms = append(ms, mapping.DossierIncomplete(at, missing))
	}
	return h.notify(ctx, w, p, nil, []string{p.BasedOn, "CarePlan/" + rec.ID}, ms)
}

// notify hands the milestones to the Notifier, recipients resolved; its issues go
// back with the write's response.
func (h *Hook) notify(ctx context.Context, w *rest.Writer, p mapping.Pathway, step object, about []string, ms []mapping.Milestone) error {
	if h.Notifier == nil {
		return nil
	}
	for _, m := range ms {
		to, err := recipients(w, p, step, m.Recipients)
		if err != nil {
			return err
		}
		n := Notice{Code: m.Code, Display: m.Display, SeedSection: m.Section, Patient: p.Subject, About: about,
			Recipients: to, Coordinator: p.Author, Facts: map[string]string{"step": m.Step, "detail": m.Detail}, At: m.At}
		if m.Detail != "" {
			n.Facts["detail"] = m.Detail
		}
		issues, err := h.Notifier.Notify(ctx, w, n)
		if err != nil {
			return err
		}
		w.Warn(issues...)
	}
	return nil
}

// subjectOf is the patient a step resource is about.
func subjectOf(m object) string {
	for _, k := range []string{"subject", "for", "patient"} {
		if r := ref(m, k); strings.HasPrefix(r, "Patient/") {
			return r
		}
	}
	return ""
}

// findCarePlan finds the patient's pathway CarePlan inside the transaction. Several
// pathways (an AIT and an IR one, or two referrals) are told apart by the step's
// basedOn referral; when that does not decide, the write is refused rather than
// applied to a guess.
func findCarePlan(w *rest.Writer, step object) (string, []byte, error) {
	subject := subjectOf(step)
	if subject == "" {
		return "", nil, nil
	}
	q := "subject=" + url.QueryEscape(subject) + "&category=" + url.QueryEscape(mapping.CodeSystemAIT+"|"+mapping.CodePathwayCategory+","+mapping.CodeSystemAIT+"|"+mapping.CodeIRCategory)
	ids, err := w.Match("CarePlan", q)
	if err != nil || len(ids) == 0 {
		return "", nil, err
	}
	basedOn := map[string]bool{}
	for _, r := range refs(step, "basedOn") {
		basedOn[r] = true
	}
	var pick []string
	bodies := map[string][]byte{}
	for _, id := range ids {
		b, err := current(w.Tx(), "CarePlan", id)
		if err != nil {
			return "", nil, err
		}
		if b == nil {
			continue
		}
		bodies[id] = b
		if basedOn[mapping.CarePlanReferral(decode(b))] {
			pick = append(pick, id)
		}
	}
	if len(pick) == 0 {
		// a step naming a referral that opened none of these pathways (another's, a
		// closed one's, or none at all) is not applied to a guess
		for r := range basedOn {
			typ, id, ok := split(r)
			if !ok || typ != "ServiceRequest" {
				continue
			}
			b, err := current(w.Tx(), typ, id)
			if err != nil {
				return "", nil, err
			}
			if b == nil || isReferral(typ, b) {
				return "", nil, fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
					Expression: []string{"basedOn"}, Details: seedCoding("000 §III"),
					Diagnostics: "the step's basedOn " + r + " is no referral with an open pathway of this patient: nothing was written (000 §III)"})
			}
		}
	}
	if len(pick) == 0 && len(bodies) == 1 {
		for id := range bodies {
			pick = append(pick, id)
		}
	}
	switch len(pick) {
	case 0:
		return "", nil, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "basedOn",
			"the patient has %d pathway CarePlans: the step must name its referral in basedOn (000 §III)", len(bodies))
	case 1:
		return pick[0], bodies[pick[0]], nil
	}
	return "", nil, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "basedOn",
		"the step's basedOn matches %d pathway CarePlans (000 §III)", len(pick))
}

// gatewayRecord reports whether typ is written by the gateway itself as a result of
// the pathway (no clinical rule runs on it).
func gatewayRecord(typ string) bool {
	return typ == "CarePlan" || typ == "DetectedIssue" || typ == "Communication" || typ == "AuditEvent"
}
