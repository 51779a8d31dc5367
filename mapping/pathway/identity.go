package pathway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// IdentityConflict is a write refused because it would match or file something of
// one patient into another patient's dossier. It names identifiers and references
// only: the identity the caller sent, the stored dossier's Patient reference, the
// identifier they collided on and the element on which the identities disagree.
type IdentityConflict struct {
	// Element is the element of the write that points at the other dossier.
	Element string
	// Key is what collided: an identifier "system|value" or a reference.
	Key string
	// Sent is the identity of the patient the write is about, as the caller sent it.
	Sent string
	// Stored is the other patient's dossier (Patient reference).
	Stored string
	// Disagrees is the identity element on which they differ.
	Disagrees string
	At        time.Time
	// request is the write's context: a store that re-runs the refused transaction
	// reports the conflict again under the same request, audited once.
	request context.Context
}

// Error is the 409 OperationOutcome of the conflict: nothing was written.
func (c IdentityConflict) Error() error {
	return fhir.Issues(http.StatusConflict, fhir.Issue{Severity: fhir.SeverityError, Code: "conflict",
		Expression: []string{c.Element},
		Diagnostics: fmt.Sprintf("identity conflict: %s (%s) points at the dossier of %s, another patient than the one sent (%s); the identities disagree on %s. "+
			"Nothing was written and the conflict is audited (patient safety: nothing is matched across patients)",
			c.Element, c.Key, c.Stored, c.Sent, c.Disagrees)})
}

// refuseConflict audits a conflict and returns its error.
func (h *Hook) refuseConflict(ctx context.Context, w *rest.Writer, c IdentityConflict) error {
	c.At, c.request = w.Now(), ctx
	if h.Audit != nil {
		h.Audit(c)
	}
	return c.Error()
}

// patientIdentity is the identity of a Patient reference, read in the transaction.
func patientIdentity(w *rest.Writer, ref string) (mapping.Identity, error) {
	typ, id, ok := split(ref)
	if !ok || typ != "Patient" {
		return mapping.Identity{}, nil
	}
	b, err := current(w.Tx(), typ, id)
	if err != nil || b == nil {
		return mapping.Identity{}, err
	}
	return mapping.IdentityOf(b), nil
}

// checkIdentity refuses, inside the write's transaction, a write that would put one
// patient's data into another's dossier: a Patient sharing an INS or IPP with a
// stored patient whose identity disagrees; a ServiceRequest whose identifier is
// another patient's referral, or a referral whose supportingInfo is another
// patient's; a resource whose basedOn is another patient's referral or pathway
// CarePlan.
func (h *Hook) checkIdentity(ctx context.Context, w *rest.Writer, rec *fhir.Record, m object) error {
	if err := h.checkSameSubject(ctx, w, rec, m); err != nil {
		return err
	}
	switch rec.Type {
	case "Patient":
		return h.checkPatient(ctx, w, rec, m)
	case "ServiceRequest":
		if err := h.checkReferralIdentifiers(ctx, w, rec, m); err != nil {
			return err
		}
	}
	return h.checkBasedOn(ctx, w, rec, m)
}

// checkPatient: a patient who shares an identifier with a stored one must be the
// same person (mapping.Identity).
func (h *Hook) checkPatient(ctx context.Context, w *rest.Writer, rec *fhir.Record, m object) error {
	id := mapping.IdentityOf(rec.Body)
	for _, key := range id.Keys() {
		ids, err := w.Match("Patient", "identifier="+url.QueryEscape(key))
		if err != nil {
			return err
		}
		for _, other := range ids {
			if other == rec.ID {
				continue
			}
			b, err := current(w.Tx(), "Patient", other)
			if err != nil || b == nil {
				return err
			}
			if el := id.Disagreement(mapping.IdentityOf(b)); el != "" {
				return h.refuseConflict(ctx, w, IdentityConflict{Element: "Patient.identifier", Key: key, Sent: id.String(),
					Stored: "Patient/" + other, Disagrees: el})
			}
		}
	}
	return nil
}

// checkReferralIdentifiers: a referral identifier names one patient's referral.
func (h *Hook) checkReferralIdentifiers(ctx context.Context, w *rest.Writer, rec *fhir.Record, sr object) error {
	subject := subjectOf(sr)
	for _, ident := range objs(sr, "identifier") {
		sys, val := str(ident, "system"), str(ident, "value")
		if sys == "" || val == "" {
			continue
		}
		ids, err := w.Match("ServiceRequest", "identifier="+url.QueryEscape(sys+"|"+val))
		if err != nil {
			return err
		}
		for _, other := range ids {
			if other == rec.ID {
				continue
			}
			b, err := current(w.Tx(), "ServiceRequest", other)
			if err != nil || b == nil {
				return err
			}
			if !isReferral(rec.Type, rec.Body) && !isReferral("ServiceRequest", b) {
				continue // two orders that are no pathway's referral: no dossier to protect
			}
			if theirs := subjectOf(decode(b)); theirs != subject {
				return h.conflictWith(ctx, w, "ServiceRequest.identifier", sys+"|"+val, subject, theirs)
			}
		}
	}
	if !isReferral(rec.Type, rec.Body) {
		return nil
	}
	for i, r := range refs(sr, "supportingInfo") {
		if err := h.samePatient(ctx, w, fmt.Sprintf("ServiceRequest.supportingInfo[%d]", i), r, subject, false); err != nil {
			return err
		}
	}
	return nil
}

// checkBasedOn: a resource based on a referral is about the referral's patient.
func (h *Hook) checkBasedOn(ctx context.Context, w *rest.Writer, rec *fhir.Record, m object) error {
	subject := subjectOf(m)
	if subject == "" {
		return nil
	}
	for i, r := range refs(m, "basedOn") {
		if err := h.samePatient(ctx, w, fmt.Sprintf("%s.basedOn[%d]", rec.Type, i), r, subject, true); err != nil {
			return err
		}
	}
	return nil
}

// samePatient refuses a reference to a resource of another patient than subject;
// dossierOnly limits it to the pathway's dossier (a referral, a pathway CarePlan).
func (h *Hook) samePatient(ctx context.Context, w *rest.Writer, element, reference, subject string, dossierOnly bool) error {
	typ, id, ok := split(reference)
	if !ok || subject == "" {
		return nil
	}
	b, err := current(w.Tx(), typ, id)
	if err != nil || b == nil {
		return err
	}
	if dossierOnly && !isReferral(typ, b) && !mapping.IsPathwayState(typ, b) {
		return nil // another patient's order or plan that is no pathway: not this rule's to judge
	}
	theirs := subjectOf(decode(b))
	if theirs == "" || theirs == subject {
		return nil
	}
	return h.conflictWith(ctx, w, element, reference, subject, theirs)
}

// conflictWith builds the conflict between the write's patient and another's.
func (h *Hook) conflictWith(ctx context.Context, w *rest.Writer, element, key, subject, theirs string) error {
	sent, err := patientIdentity(w, subject)
	if err != nil {
		return err
	}
	stored, err := patientIdentity(w, theirs)
	if err != nil {
		return err
	}
	el := sent.Disagreement(stored)
	if el == "" {
		el = "the Patient record (two Patient resources for one identity)"
	}
	desc := sent.String()
	if !sent.Known() {
		desc = "a patient sent without INS or IPP"
	}
	return h.refuseConflict(ctx, w, IdentityConflict{Element: element, Key: key, Sent: desc, Stored: theirs, Disagrees: el})
}

// isReferral reports whether a ServiceRequest is a referral that opens a pathway.
func isReferral(typ string, body []byte) bool {
	if typ != "ServiceRequest" {
		return false
	}
	_, ok := mapping.ReferralKind(body)
	return ok || strings.Contains(string(body), mapping.ProfileReferral)
}

// seedCoding names a seed section in an issue's details.
func seedCoding(section string) *fhir.CodeableText {
	return &fhir.CodeableText{Coding: []fhir.Coding{{System: mapping.CodeSystemSeed, Code: section}}, Text: section}
}

// checkSameSubject refuses an update that moves a referral or a step resource to
// another patient: the dossier it belongs to is its first patient's.
func (h *Hook) checkSameSubject(ctx context.Context, w *rest.Writer, rec *fhir.Record, m object) error {
	if rec.Version < 2 || !(isReferral(rec.Type, rec.Body) || mapping.IsStepCandidate(rec.Type, rec.Body)) {
		return nil
	}
	prev, err := w.Tx().Version(rec.Type, rec.ID, rec.Version-1)
	if err != nil || prev == nil || prev.Deleted {
		return nil // no previous version to compare (a tombstone, or history pruned)
	}
	was, now := subjectOf(decode(prev.Body)), subjectOf(m)
	if was == "" || was == now {
		return nil
	}
	return h.conflictWith(ctx, w, rec.Type+".subject", rec.Type+"/"+rec.ID, now, was)
}
