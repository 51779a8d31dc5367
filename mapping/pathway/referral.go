package pathway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Referral is POST [base]/$ait-referral: it runs mapping.Intake on the posted
// transaction Bundle (profiles, normalised values, dossier links, entries conditional
// on identifiers and on the patient's identity, the pathway CarePlan: AIT or IR by
// the referral's code) and commits the result through svc.Bundle as one transaction
// with the request's Access, so the Hook checks identities and raises the referral
// milestones in the same commit. Posting the same referral twice, by either door,
// creates nothing twice. The answer is a Parameters: "transaction-response" (the
// Bundle) and "outcome" (the intake's issues, what was kept as sent, and the write's
// warnings).
func Referral(svc *rest.Service) Operation {
	return func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
		resp, issues, err := intake(ctx, svc, req.Body, req.Access, rest.ReturnRepresentation)
		if err != nil {
			return nil, err
		}
		oo := fhir.NewOutcome(issues...)
		if len(issues) == 0 {
			oo = fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational",
				Diagnostics: "referral mapped in full (000 §V.2)"})
		}
		out := map[string]any{"resourceType": "Parameters", "parameter": []any{
			map[string]any{"name": "transaction-response", "resource": json.RawMessage(resp.Body)},
			map[string]any{"name": "outcome", "resource": json.RawMessage(oo.JSON())},
		}}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		return &rest.Response{Status: http.StatusOK, Body: b, Outcome: oo}, nil
	}
}

// intake maps a referral and commits it; it returns the transaction-response and
// every issue: the intake's, the profiles withdrawn, and the write's warnings.
func intake(ctx context.Context, svc *rest.Service, body []byte, access rest.Access, prefer string) (*rest.Response, []fhir.Issue, error) {
	res, err := mapping.Intake(body, mapping.IntakeOptions{Received: clock(svc)})
	if err != nil {
		return nil, nil, err
	}
	if subject, inBundle := mapping.ReferralSubject(body); !inBundle {
		if err := storedPatient(ctx, svc, subject); err != nil {
			return nil, nil, err
		}
	}
	bundle, withdrawn, valid, err := claimOnlyWhatIsMet(svc.Validate, body, res.Bundle)
	if err != nil {
		return nil, nil, err
	}
	if gaps := referralGaps(withdrawn); len(gaps) > 0 && res.Pathway.Has(rules.FactDossierComplete) {
		// the checklist passed but the referral profile did not: not complete
		if res, err = mapping.Intake(body, mapping.IntakeOptions{Received: clock(svc), ProfileGaps: gaps}); err != nil {
			return nil, nil, err
		}
		if bundle, withdrawn, valid, err = claimOnlyWhatIsMet(svc.Validate, body, res.Bundle); err != nil {
			return nil, nil, err
		}
	}
	resp, err := svc.Bundle(withIntake(ctx), &rest.Request{Method: http.MethodPost, Body: bundle, Op: "transaction", Access: access,
		BundleValidated: valid}, prefer)
	if err != nil {
		return nil, nil, err
	}
	issues := append(append([]fhir.Issue{}, res.Issues...), withdrawn...)
	if resp.Outcome != nil {
		issues = append(issues, resp.Outcome.Issue...)
	}
	return resp, issues, nil
}

// ReferralTransaction gives a transaction Bundle posted to the base that carries a
// referral (a ServiceRequest with one of the guide's referral codes) the intake of
// $ait-referral: one way in, whatever the door. The answer is the
// transaction-response, one entry per entry sent; each entry's response.outcome says
// the referral intake processed it, with the intake's issues about that entry. It
// reports false for any other Bundle, left to the standard processing.
func ReferralTransaction(svc *rest.Service) func(ctx context.Context, req *rest.Request, prefer string) (*rest.Response, bool, error) {
	return func(ctx context.Context, req *rest.Request, prefer string) (*rest.Response, bool, error) {
		if !mapping.IsReferralBundle(req.Body) {
			return nil, false, nil
		}
		entries := objs(decode(req.Body), "entry")
		sent, at := len(entries), 0
		for i, e := range entries {
			if r := obj(e, "resource"); str(r, "resourceType") == "ServiceRequest" && isReferral("ServiceRequest", mustJSON(r)) {
				at = i
				break
			}
		}
		resp, issues, err := intake(ctx, svc, req.Body, req.Access, prefer)
		if err != nil {
			return nil, true, err
		}
		b, err := annotateEntries(resp.Body, sent, at, issues)
		if err != nil {
			return nil, true, err
		}
		resp.Body = b
		return resp, true, nil
	}
}

// entryOf reads the entry an issue's expression points at.
var entryOf = regexp.MustCompile(`^Bundle\.entry\[(\d+)\]`)

// annotateEntries puts in each entry's response.outcome that the referral intake
// processed it, and the issues about it; issues about no entry go to the referral's
// entry (at).
// The pathway CarePlan the intake added is named in the outcomes and its entry
// dropped, so that the response has one entry per entry sent.
func annotateEntries(body []byte, sent, at int, issues []fhir.Issue) ([]byte, error) {
	b := decode(body)
	if b == nil {
		return body, nil
	}
	entries, _ := b["entry"].([]any)
	careplan := ""
	if len(entries) > sent {
		if last, ok := entries[len(entries)-1].(map[string]any); ok {
			careplan, _ = obj(last, "response")["location"].(string)
		}
		entries = entries[:sent]
	}
	per := map[int][]fhir.Issue{}
	var general []fhir.Issue
	for _, is := range issues {
		i := -1
		for _, e := range is.Expression {
			if m := entryOf.FindStringSubmatch(e); m != nil {
				i, _ = strconv.Atoi(m[1])
			}
		}
		if i >= 0 && i < sent {
			per[i] = append(per[i], is)
		} else {
			general = append(general, is)
		}
	}
	note := "processed by the referral intake, as by $ait-referral: profiles, normalised values, conditional on identifiers and the patient's identity (000 §V.2)"
	if careplan != "" {
		note += "; pathway " + careplan
	}
	for i, x := range entries {
		e, ok := x.(map[string]any)
		if !ok {
			continue
		}
		r := obj(e, "response")
		if r == nil {
			r = map[string]any{}
			e["response"] = r
		}
		list := []fhir.Issue{{Severity: fhir.SeverityInformation, Code: "informational", Diagnostics: note}}
		if prev := obj(r, "outcome"); prev != nil {
			var oo fhir.OperationOutcome
			if raw, err := json.Marshal(prev); err == nil && json.Unmarshal(raw, &oo) == nil {
				list = append(list, oo.Issue...)
			}
		}
		list = append(list, per[i]...)
		if i == at {
			list = append(list, general...)
		}
		r["outcome"] = json.RawMessage(fhir.NewOutcome(list...).JSON())
	}
	b["entry"] = entries
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("transaction-response: %w", err)
	}
	return out, nil
}

func mustJSON(m object) []byte { b, _ := json.Marshal(m); return b }

// referralGaps are the withdrawal issues of the referral profile itself.
func referralGaps(withdrawn []fhir.Issue) []fhir.Issue {
	var out []fhir.Issue
	for _, is := range withdrawn {
		if strings.Contains(is.Diagnostics, "without "+mapping.ProfileReferral) {
			out = append(out, is)
		}
	}
	return out
}

// storedPatient refuses a referral whose subject names no stored Patient (a
// conditional reference is resolved by the transaction itself).
func storedPatient(ctx context.Context, svc *rest.Service, subject string) error {
	typ, id, ok := split(subject)
	if !ok || typ != "Patient" {
		if strings.HasPrefix(subject, "Patient?") {
			return nil
		}
	} else {
		var b []byte
		if err := svc.Store.View(ctx, func(tx fhir.Tx) error {
			var err error
			b, err = current(tx, typ, id)
			return err
		}); err != nil || b != nil {
			return err
		}
	}
	return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "required",
		Expression: []string{"Bundle.entry.resource.ofType(ServiceRequest).subject"}, Details: seedCoding("000 §V.2"),
		Diagnostics: "the referral's subject " + orNone(subject) + " is neither a Patient of the referral nor a stored one: nothing was written (000 §V.2)"})
}
