package pathway

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Operation is the shape of an operation the server registers.
type Operation = func(ctx context.Context, req *rest.Request) (*rest.Response, error)

// clock is the service's clock, so that tests that stub it see the same time.
func clock(svc *rest.Service) time.Time {
	if svc.Now != nil {
		return svc.Now().UTC()
	}
	return time.Now().UTC()
}

func ok(body []byte) *rest.Response { return &rest.Response{Status: http.StatusOK, Body: body} }

// DossierStatus is GET ServiceRequest/{id}/$ait-dossier-status (000 §V): the
// referral and its supportingInfo are read through the service with the request's
// Access (a client sees no more than it may read), and the answer is the Parameters
// of mapping.DossierStatus at the service's now: complete (valueBoolean) and outcome
// (one issue per missing, stale or out-of-range element, each with its seed section),
// then the indication as known at referral (withClinicalStatus): the oral morphine
// equivalent line by line and the contraindications (000 §IV).
func DossierStatus(svc *rest.Service) Operation {
	return func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
		if req.ID == "" {
			return nil, fhir.Errorf(http.StatusBadRequest, "required", "ServiceRequest.id",
				"$ait-dossier-status is invoked on a ServiceRequest instance (000 §V)")
		}
		records := ServiceRecords{Ctx: ctx, Service: svc, Access: req.Access}
		d, err := mapping.LoadDossier(records, req.ID)
		if err != nil {
			return nil, err
		}
		var gaps []fhir.Issue
		if sr, err := records.Read("ServiceRequest", req.ID); err == nil && sr != nil && svc.Validate != nil {
			gaps = referralProfileGaps(svc.Validate, sr)
		}
		body, err := withClinicalStatus(records, req.ID, mapping.DossierStatusWith(d, clock(svc), gaps))
		if err != nil {
			return nil, err
		}
		return ok(body), nil
	}
}

// Mirels is POST Observation/$mirels (003 annex 4); see Score.
func Mirels(svc *rest.Service) Operation { return score(svc, rules.Mirels) }

// SINS is POST Observation/$sins (003 annex 4); see Score.
func SINS(svc *rest.Service) Operation { return score(svc, rules.SINS) }

// score takes the answers as a Parameters (one parameter per question, valueCode or
// valueString the answer; optional subject valueReference and effective
// valueDateTime) or as an Observation with one component per question, and answers
// 200 with the score Observation and its interpretation band. It stores nothing.
// An unknown or missing answer is a 400 naming the component and 003 annex 4.
func score(svc *rest.Service, s rules.Score) Operation {
	return func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
		answers, subject, at, err := scoreInput(req.Body)
		if err != nil {
			return nil, err
		}
		if at.IsZero() {
			at = clock(svc)
		}
		obs, err := mapping.ScoreObservation(s, answers, subject, at)
		if err != nil {
			fe := fhir.AsError(err)
			return nil, &fhir.Error{Status: http.StatusBadRequest, Outcome: fe.Outcome}
		}
		return ok(obs), nil
	}
}

// scoreInput reads the answers of a score operation.
func scoreInput(body []byte) (answers map[string]string, subject string, at time.Time, err error) {
	m := decode(body)
	switch str(m, "resourceType") {
	case "Observation":
		answers, err = mapping.ScoreAnswers(body)
		subject = ref(m, "subject")
		at, _ = time.Parse(time.RFC3339, str(m, "effectiveDateTime"))
		return answers, subject, at, err
	case "Parameters":
		answers = map[string]string{}
		for _, p := range objs(m, "parameter") {
			name := str(p, "name")
			switch name {
			case "subject":
				subject = ref(p, "valueReference")
			case "effective":
				at, _ = time.Parse(time.RFC3339, str(p, "valueDateTime"))
			default:
				a := str(p, "valueCode")
				if a == "" {
					a = str(p, "valueString")
				}
				answers[name] = a
			}
		}
		return answers, subject, at, nil
	}
	return nil, "", time.Time{}, fhir.Errorf(http.StatusBadRequest, "structure", "",
		"the score operations take a Parameters or an Observation with the answers (003 annex 4)")
}

// referralProfileGaps validates a stored AIT referral against the AITReferral
// profile (its dossier resolved in the store) and returns its errors: what the
// profile finds missing beyond the checklist. An IR request has none to meet.
func referralProfileGaps(v rest.Validator, sr []byte) []fhir.Issue {
	m := decode(sr)
	if rc, ok := mapping.ReferralKind(sr); ok && rc.Pathway != mapping.KindAIT {
		return nil
	}
	meta := obj(m, "meta")
	if meta == nil {
		meta = map[string]any{}
		m["meta"] = meta
	}
	claimed := false
	for _, p := range objsOrStrings(meta["profile"]) {
		claimed = claimed || p == mapping.ProfileReferral
	}
	if !claimed {
		meta["profile"] = append(anySlice(meta["profile"]), mapping.ProfileReferral)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	oo := v.ValidateWrite("ServiceRequest", body, false)
	if oo == nil {
		return nil
	}
	var out []fhir.Issue
	for _, is := range oo.Issue {
		if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
			is.Diagnostics = "the referral does not meet AITReferral: " + is.Diagnostics
			out = append(out, is)
		}
	}
	return out
}

func objsOrStrings(v any) []string {
	var out []string
	for _, x := range anySlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anySlice(v any) []any { l, _ := v.([]any); return l }
