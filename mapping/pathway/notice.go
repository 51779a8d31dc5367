package pathway

import (
	"context"
	"net/url"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Recipient is one person a milestone is for: the role of "Who is told what" and who
// holds it for this patient. An empty Reference means nobody was found in the data;
// the notifier makes that a visible warning rather than silence.
type Recipient struct {
	Role      string
	Reference string
}

// Notice is a milestone raised by a write (pathways.md, "Who is told what"), with its
// recipients resolved from the data inside the same transaction. It carries codes
// and references only, no patient data.
type Notice struct {
	// Code and Display name the milestone (rules.Milestones, the guide's CodeSystem).
	Code, Display string
	// SeedSection is the referential section the milestone comes from.
	SeedSection string
	// Patient is the Patient reference.
	Patient string
	// About lists the resources the milestone is about: the step resource, the CarePlan.
	About      []string
	Recipients []Recipient
	// Coordinator is the coordinating algologist (CarePlan.author), "" when not yet known.
	Coordinator string
	// Facts are short coded facts (step, detail; no patient data).
	Facts map[string]string
	At    time.Time
}

// Notifier records the notices of a write in the same transaction (the notification
// service implements it: Communications, outbox). Issues it returns (warnings for a
// recipient nobody holds) travel back to the client with the write's response.
type Notifier interface {
	Notify(ctx context.Context, w *rest.Writer, n Notice) ([]fhir.Issue, error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, w *rest.Writer, n Notice) ([]fhir.Issue, error)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, w *rest.Writer, n Notice) ([]fhir.Issue, error) {
	return f(ctx, w, n)
}

// recipients resolves the roles of a milestone inside the transaction: GP =
// Patient.generalPractitioner, referring physician = the referral's requester,
// algologist = CarePlan.author, refill-centre physician = the practitioners of the
// PractitionerRoles of the patient's refill centre (an Organization typed
// refill-centre that the step resource or the pump names), patient = the subject.
func recipients(w *rest.Writer, p mapping.Pathway, step object, roles []rules.Role) ([]Recipient, error) {
	var out []Recipient
	for _, role := range roles {
		var who []string
		switch role {
		case rules.RolePatient:
			who = nonEmpty(p.Subject)
		case rules.RoleAlgologist:
			who = nonEmpty(p.Author)
		case rules.RoleGP:
			if pat, err := read(w.Tx(), p.Subject); err != nil {
				return nil, err
			} else if pat != nil {
				who = refs(pat, "generalPractitioner")
			}
		case rules.RoleReferringPhysician:
			if sr, err := read(w.Tx(), p.BasedOn); err != nil {
				return nil, err
			} else if sr != nil {
				who = nonEmpty(ref(sr, "requester"))
			}
		case rules.RoleRefillCentre:
			var err error
			if who, err = refillCentrePhysicians(w, p, step); err != nil {
				return nil, err
			}
		}
		if len(who) == 0 {
			out = append(out, Recipient{Role: string(role)})
		}
		for _, r := range who {
			out = append(out, Recipient{Role: string(role), Reference: r})
		}
	}
	return out, nil
}

// refillCentrePhysicians finds the refill centre (000 §I.3, §XI) among the
// Organizations the step names (performer.onBehalfOf, performer, serviceProvider)
// and the owner of the patient's pump, then the practitioners of its PractitionerRoles.
func refillCentrePhysicians(w *rest.Writer, p mapping.Pathway, step object) ([]string, error) {
	var orgs []string
	for _, pf := range objs(step, "performer") {
		orgs = append(orgs, ref(pf, "onBehalfOf"), ref(pf, "actor"), str(pf, "reference"))
	}
	orgs = append(orgs, ref(step, "serviceProvider"))
	if p.Subject != "" {
		ids, err := w.Match("Device", "patient="+url.QueryEscape(p.Subject))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if d, err := read(w.Tx(), "Device/"+id); err == nil && d != nil {
				orgs = append(orgs, ref(d, "owner"))
			}
		}
	}
	for _, o := range orgs {
		typ, id, ok := split(o)
		if !ok || typ != "Organization" {
			continue
		}
		org, err := read(w.Tx(), o)
		if err != nil || org == nil || !hasCode(objs(org, "type"), mapping.CodeSystemAIT, "refill-centre") {
			continue
		}
		ids, err := w.Match("PractitionerRole", "organization=Organization/"+id)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, rid := range ids {
			if pr, err := read(w.Tx(), "PractitionerRole/"+rid); err == nil && pr != nil {
				if who := ref(pr, "practitioner"); who != "" {
					out = append(out, who)
				} else {
					out = append(out, "PractitionerRole/"+rid)
				}
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
}

func hasCode(ccs []object, system, code string) bool {
	for _, cc := range ccs {
		for _, c := range objs(cc, "coding") {
			if str(c, "system") == system && str(c, "code") == code {
				return true
			}
		}
	}
	return false
}

// read returns the decoded current version of a literal reference, nil when absent.
func read(tx fhir.Tx, reference string) (object, error) {
	typ, id, ok := split(reference)
	if !ok {
		return nil, nil
	}
	b, err := current(tx, typ, id)
	if err != nil || b == nil {
		return nil, err
	}
	return decode(b), nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
