package pathway

import (
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// stepTypes are the resource types a step is posted as (mapping.StepDocs), with the
// search parameter naming their patient.
var stepTypes = map[string]string{"Task": "subject", "Encounter": "subject", "Procedure": "subject",
	"MedicationRequest": "subject", "ServiceRequest": "subject", "Consent": "patient"}

// rebuildPathway derives a pathway's state from its referral and its step
// resources, never from the CarePlan's own state: the referral fact when the
// referral was first stored (and, for AIT, the complete dossier as the checklist
// finds it then), then every step of the patient based on that referral (or on
// none), in the order they were stored, as the hook applied them; the deadlines are
// flagged as of now. The CarePlan gives only which referral and patient it is for.
// skip ("Type/id") is a step left out: the one being written, applied by the caller.
func rebuildPathway(w *rest.Writer, careplan []byte, now time.Time, skip string) (mapping.Pathway, error) {
	cp := decode(careplan)
	referral, patient := "", ref(cp, "subject")
	referral = mapping.CarePlanReferral(cp)
	typ, id, ok := split(referral)
	if !ok || typ != "ServiceRequest" {
		return mapping.Pathway{}, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "CarePlan.supportingInfo", "the pathway names no referral to rebuild from (000 §III)")
	}
	first, err := w.Tx().Version(typ, id, 1)
	if err != nil {
		return mapping.Pathway{}, err
	}
	sr, err := current(w.Tx(), typ, id)
	if err != nil || sr == nil {
		return mapping.Pathway{}, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "CarePlan.supportingInfo", "the pathway's referral %s is gone (000 §III)", referral)
	}
	p, _, err := mapping.OpenPathway(sr, referral, first.LastUpdated, txRecords{w})
	if err != nil {
		return mapping.Pathway{}, err
	}
	p.Subject, p.Author = patient, ref(cp, "author")
	if ident := objs(cp, "identifier"); len(ident) > 0 {
		p.Identifier = str(ident[0], "value")
	}
	type stored struct {
		ev      mapping.Event
		created time.Time
	}
	var steps []stored
	for typ, param := range stepTypes {
		ids, err := w.Match(typ, param+"="+url.QueryEscape(patient))
		if err != nil {
			return mapping.Pathway{}, err
		}
		for _, sid := range ids {
			b, err := current(w.Tx(), typ, sid)
			if err != nil || b == nil || typ+"/"+sid == skip || !mapping.IsStepCandidate(typ, b) || isReferral(typ, b) {
				continue
			}
			m := decode(b)
			if on := refs(m, "basedOn"); len(on) > 0 && !contains(on, referral) {
				continue // another pathway's step
			}
			actor, err := ResolveActor(w.Tx(), m)
			if err != nil {
				continue
			}
			ev, ok, err := mapping.ReadEvent(b, actor)
			if !ok || err != nil {
				continue
			}
			v1, err := w.Tx().Version(typ, sid, 1)
			if err != nil {
				continue
			}
			steps = append(steps, stored{ev, v1.LastUpdated})
		}
	}
	sort.SliceStable(steps, func(i, j int) bool {
		if !steps[i].created.Equal(steps[j].created) {
			return steps[i].created.Before(steps[j].created)
		}
		return steps[i].ev.At.Before(steps[j].ev.At)
	})
	for _, s := range steps {
		if q, _, err := mapping.Apply(p, s.ev); err == nil { // a step the rules refuse now was refused then
			p = q
			if p.Author == "" && s.ev.Actor.Role == rules.RoleAlgologist {
				p.Author = s.ev.Actor.Reference
			}
		}
	}
	p, _ = mapping.CheckOverdue(p, now)
	return p, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
