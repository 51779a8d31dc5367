// Package kit is the runnable conformance kit for EHR vendors: the AIT pathway as an
// EHR posts it (000 §III), step by step, with what the gateway must answer — the
// CarePlan's activity statuses and who is told what. The gateway's own tests run it
// in process (mapping/pathway) and over HTTP against the real binary
// (conformance/e2e); a vendor can run it against a test instance.
package kit

import (
	"encoding/json"
	"strings"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/profiles"
)

// Poster creates a resource and returns its "Type/id".
type Poster interface {
	Create(body []byte) (string, error)
}

// Dossier is what the referral created: the references the steps refer to.
type Dossier struct {
	Patient, Referral, GP, Requester string
}

// Cast are the practitioners of the pathway, as PractitionerRoles or qualified
// Practitioners (the gateway reads their roles from these).
type Cast struct {
	Algologist, AlgologistRole, Anaesthetist, Implanter, Refiller, RefillCentre, Nurse string
}

const (
	ait    = mapping.CodeSystemAIT
	v20360 = "http://terminology.hl7.org/CodeSystem/v2-0360"
)

func coding(system, code string) map[string]any {
	return map[string]any{"system": system, "code": code}
}

func cc(cs ...map[string]any) map[string]any {
	l := make([]any, len(cs))
	for i, c := range cs {
		l[i] = c
	}
	return map[string]any{"coding": l}
}

func reference(r string) map[string]any { return map[string]any{"reference": r} }

// JSON renders a resource built as a map.
func JSON(v any) []byte { b, _ := json.Marshal(v); return b }

// NewCast creates the practitioners, their roles and the refill centre.
func NewCast(p Poster) (Cast, error) {
	var c Cast
	var err error
	create := func(r map[string]any) string {
		if err != nil {
			return ""
		}
		var ref string
		ref, err = p.Create(JSON(r))
		return ref
	}
	prac := func(rpps string, qual map[string]any) string {
		r := map[string]any{"resourceType": "Practitioner", "identifier": []any{map[string]any{"system": "https://rpps.esante.gouv.fr", "value": rpps}},
			"name": []any{map[string]any{"family": "Test"}}}
		if qual != nil {
			r["qualification"] = []any{map[string]any{"code": qual}}
		}
		return create(r)
	}
	role := func(pr string, code map[string]any, org string) string {
		r := map[string]any{"resourceType": "PractitionerRole", "practitioner": reference(pr), "code": []any{code}}
		if org != "" {
			r["organization"] = reference(org)
		}
		return create(r)
	}
	c.Algologist = prac("10000000001", nil)
	c.AlgologistRole = role(c.Algologist, map[string]any{"text": "algologist"}, "")
	c.Anaesthetist = role(prac("10000000002", nil), cc(coding("http://snomed.info/sct", "88189002")), "")
	c.Implanter = role(prac("10000000003", nil), map[string]any{"text": "implanting-physician"}, "")
	c.RefillCentre = create(map[string]any{"resourceType": "Organization", "name": "Refill centre",
		"type": []any{cc(coding(ait, "refill-centre"))}})
	c.Refiller = prac("10000000004", cc(coding(v20360, "MD")))
	role(c.Refiller, map[string]any{"text": "refill-centre-physician"}, c.RefillCentre)
	c.Nurse = prac("10000000005", cc(coding(v20360, "RN")))
	return c, err
}

// encounter is a step the guide has no resource for: an Encounter coded with the
// step code (consultations, admission, discharge, follow-up).
func encounter(d Dossier, fact, start, by string, extra map[string]any, qualifiers ...string) []byte {
	types := []any{cc(coding(ait, fact))}
	for _, q := range qualifiers {
		types = append(types, cc(coding(ait, q)))
	}
	r := map[string]any{"resourceType": "Encounter", "status": "finished", "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
		"type": types, "subject": reference(d.Patient), "period": map[string]any{"start": start},
		"participant": []any{map[string]any{"individual": reference(by)}}, "basedOn": []any{reference(d.Referral)}}
	for k, v := range extra {
		r[k] = v
	}
	return JSON(r)
}

func nextRefill(at string) []any {
	return []any{map[string]any{"url": mapping.ExtNextRefill, "valueDateTime": at}}
}

// Refill is a refill Procedure (000 §XIII) by a practitioner.
func Refill(d Dossier, c Cast, by, at, next string) []byte {
	return JSON(map[string]any{"resourceType": "Procedure", "status": "completed", "code": cc(coding(ait, mapping.CodeRefill)),
		"subject": reference(d.Patient), "performedDateTime": at,
		"performer": []any{map[string]any{"actor": reference(by), "onBehalfOf": reference(c.RefillCentre)}},
		"extension": nextRefill(next)})
}

// Step is one post of the pathway and what must follow it.
type Step struct {
	Name string
	Body []byte
	// Want are the CarePlan activity statuses after the step, one letter per step of
	// the pathway: N not started, S scheduled, I in progress, C completed (! overdue).
	Want string
	// Told are the milestones raised: code>role=reference|… ; several joined by ";".
	Told string
}

// AITSteps are the steps after the referral to the third refill and a complication,
// as an EHR posts them (000 §III, §VI–§XIII).
func AITSteps(d Dossier, c Cast) []Step {
	gp, ref := "general-practitioner="+d.GP, "referring-physician="+d.Requester
	algo, refiller := "algologist="+c.Algologist, "refill-centre-physician="+c.Refiller
	return []Step{
		{"rcp", JSON(map[string]any{"resourceType": "Task", "status": "completed", "intent": "order", "code": cc(coding(ait, mapping.CodeRCPReview)),
			"for": reference(d.Patient), "basedOn": []any{reference(d.Referral)}, "owner": reference(c.AlgologistRole),
			"executionPeriod": map[string]any{"start": "2026-03-10T14:00:00Z"},
			"output": []any{
				map[string]any{"type": cc(coding(ait, mapping.CodeRCPDecision)), "valueCodeableConcept": cc(coding(ait, mapping.CodeRCPAccepted))},
				map[string]any{"type": cc(coding(ait, mapping.CodeRCPTechnique)), "valueCodeableConcept": cc(coding(ait, "implanted-pump"))}}}),
			"C C C S N N N N N N", "rcp-decision-sent>" + ref + "|" + gp},
		{"algology", encounter(d, "algology-consultation", "2026-03-13T10:00:00Z", c.AlgologistRole, nil, mapping.CodeConsentGiven),
			"C C C I N N S N N N", ""},
		{"anaesthesia", encounter(d, "anaesthesia-consultation", "2026-03-13T11:00:00Z", c.Anaesthetist, nil),
			"C C C C N N S N N N", ""},
		{"planning", JSON(map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "plan", "code": cc(coding(ait, "planning")),
			"subject": reference(d.Patient), "basedOn": []any{reference(d.Referral)}, "authoredOn": "2026-03-16T09:00:00Z", "requester": reference(c.AlgologistRole),
			"extension": []any{map[string]any{"url": mapping.ExtPlannedDate, "valueDateTime": "2026-03-24T08:00:00Z"}}}),
			"C C C C C N S N N N", "intervention-planned>" + gp + "|" + ref},
		{"prescription", prescription(d, c, "2026-03-20T09:00:00Z"), "C C C C C C S N N N", ""},
		{"admission", encounter(d, "admission", "2026-03-23T15:00:00Z", c.AlgologistRole, nil),
			"C C C C C C I N N N", ""},
		{"implantation", JSON(map[string]any{"resourceType": "Procedure", "status": "completed", "code": cc(coding(ait, mapping.CodeImplantation)),
			"subject": reference(d.Patient), "basedOn": []any{reference(d.Referral)}, "performedDateTime": "2026-03-24T08:00:00Z",
			"performer": []any{map[string]any{"actor": reference(c.Implanter)}}}),
			"C C C C C C C N N N", "implantation-done>" + gp + "|" + ref},
		{"discharge", encounter(d, "discharge", "2026-03-31T10:00:00Z", c.AlgologistRole,
			map[string]any{"serviceProvider": reference(c.RefillCentre), "extension": nextRefill("2026-04-28T09:00:00Z")}, mapping.CodeRefillCentreDiffers),
			"C C C C C C C C I S", "discharge-letter>" + gp + "|" + ref + "|" + refiller},
		{"follow-up", encounter(d, "follow-up", "2026-04-07T10:00:00Z", c.Refiller, nil),
			"C C C C C C C C I S", ""},
		{"refill 1", Refill(d, c, c.Refiller, "2026-04-27T10:00:00Z", "2026-05-25T09:00:00Z"), "C C C C C C C C I I", "refill-letter>" + gp},
		{"refill 2", Refill(d, c, c.Refiller, "2026-05-25T08:00:00Z", "2026-06-22T09:00:00Z"), "C C C C C C C C I I", "refill-letter>" + gp},
		{"refill 3", Refill(d, c, c.Refiller, "2026-06-20T10:00:00Z", "2026-07-18T09:00:00Z"), "C C C C C C C C I I", "refill-letter>" + gp},
		{"complication", JSON(map[string]any{"resourceType": "Encounter", "status": "finished", "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
			"type": []any{cc(coding(ait, "complication"))}, "subject": reference(d.Patient), "period": map[string]any{"start": "2026-06-25T10:00:00Z"},
			"participant": []any{map[string]any{"individual": reference(c.Refiller)}}}),
			"C C C C C C C C I I", "complication>" + gp + "|" + ref + "|" + algo},
	}
}

// Statuses renders a CarePlan's activity statuses as Step.Want does.
func Statuses(careplan []byte) string {
	var cp struct {
		Activity []struct {
			Detail struct {
				Status    string `json:"status"`
				Extension []struct {
					URL string `json:"url"`
				} `json:"extension"`
			} `json:"detail"`
		} `json:"activity"`
	}
	_ = json.Unmarshal(careplan, &cp)
	letters := map[string]string{"not-started": "N", "scheduled": "S", "in-progress": "I", "completed": "C", "cancelled": "X"}
	var out []string
	for _, a := range cp.Activity {
		s := letters[a.Detail.Status]
		for _, e := range a.Detail.Extension {
			if e.URL == mapping.ExtOverdue {
				s += "!"
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// prescription is the guide's example intrathecal prescription (morphine and
// ziconotide, 000 §IX) written for this patient by the algologist: a resource that
// meets AITIntrathecalPrescription, as the gateway checks on write.
func prescription(d Dossier, c Cast, at string) []byte {
	pkg, err := profiles.Load()
	if err != nil {
		panic(err) // the embedded package is part of the build
	}
	var r map[string]any
	for _, ex := range pkg.Examples() {
		if ex.Type == "MedicationRequest" {
			_ = json.Unmarshal(ex.Body, &r)
		}
	}
	delete(r, "id")
	r["meta"] = map[string]any{"profile": []any{mapping.ProfilePrescription}}
	r["subject"], r["requester"], r["authoredOn"] = reference(d.Patient), reference(c.AlgologistRole), at
	return JSON(r)
}
