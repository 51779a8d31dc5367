package pathway

import (
	"context"
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
// (one issue per missing, stale or out-of-range element, each with its seed section).
func DossierStatus(svc *rest.Service) Operation {
	return func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
		if req.ID == "" {
			return nil, fhir.Errorf(http.StatusBadRequest, "required", "ServiceRequest.id",
				"$ait-dossier-status is invoked on a ServiceRequest instance (000 §V)")
		}
		d, err := mapping.LoadDossier(ServiceRecords{Ctx: ctx, Service: svc, Access: req.Access}, req.ID)
		if err != nil {
			return nil, err
		}
		return ok(mapping.DossierStatus(d, clock(svc))), nil
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
