package pathway

import (
	"context"
	"net/http"
	"net/url"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// intakeKey marks the context of a write the referral intake makes: its transaction
// carries the pathway CarePlan itself.
type intakeKey struct{}

// withIntake marks ctx as the intake's.
func withIntake(ctx context.Context) context.Context {
	return context.WithValue(ctx, intakeKey{}, true)
}

func fromIntake(ctx context.Context) bool { v, _ := ctx.Value(intakeKey{}).(bool); return v }

// openPathway opens the pathway of a referral ServiceRequest stored by any other
// door than the intake (alone, in a batch): one way in, whatever the door. The
// CarePlan it writes raises the referral's milestones like the intake's
// (referralCreated). A referral that already has its pathway opens none.
func (h *Hook) openPathway(w *rest.Writer, rec *fhir.Record) error {
	ref := "ServiceRequest/" + rec.ID
	ids, err := w.Match("CarePlan", "based-on="+url.QueryEscape(ref))
	if err != nil || len(ids) > 0 {
		return err
	}
	p, _, err := mapping.OpenPathway(rec.Body, ref, w.Now(), txRecords{w})
	if err != nil {
		return err
	}
	ident := mapping.CarePlanIdentifier(rec.Body, ref)
	if ids, err := w.Match("CarePlan", "identifier="+url.QueryEscape(mapping.IdentifierCarePlan+"|"+ident)); err != nil || len(ids) > 0 {
		return err // the intake opened it under the same referral identifier
	}
	_, _, err = w.Put("CarePlan", rest.NewID(), mapping.CarePlanJSON(p), http.MethodPost, 0)
	return err
}

// referralPatientExists refuses a referral whose subject is no stored Patient: a
// pathway is one patient's, and a dangling reference names nobody.
func referralPatientExists(w *rest.Writer, rec *fhir.Record) error {
	subject := subjectOf(decode(rec.Body))
	typ, id, ok := split(subject)
	if ok && typ == "Patient" {
		if b, err := current(w.Tx(), typ, id); err != nil || b != nil {
			return err
		}
	}
	return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "required",
		Expression: []string{"ServiceRequest.subject"}, Details: seedCoding("000 §V.2"),
		Diagnostics: "the referral names no stored patient (" + orNone(subject) + "): a pathway is one patient's, nothing was written (000 §V.2)"})
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
