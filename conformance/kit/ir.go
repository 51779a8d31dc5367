package kit

import "github.com/aitgw/aitgw/mapping"

// IRSteps are the interventional-radiology steps after the request, as an EHR posts
// them (003, 004): the RCP, the pre-interventional consultation, a vertebral
// cimentoplasty 48 h after it, the follow-up at one month. by is the interventional
// radiologist.
func IRSteps(d Dossier, by string) []Step {
	enc := func(fact, at string) []byte {
		return JSON(map[string]any{"resourceType": "Encounter", "status": "finished",
			"class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
			"type":  []any{cc(coding(ait, fact))}, "subject": reference(d.Patient), "basedOn": []any{reference(d.Referral)},
			"period": map[string]any{"start": at}, "participant": []any{map[string]any{"individual": reference(by)}}})
	}
	return []Step{
		{"ir-rcp", enc("ir-rcp", "2026-05-07T14:00:00Z"), "C C N N N", ""},
		{"ir-consultation", enc("ir-consultation", "2026-05-12T09:00:00Z"), "C C C S N", ""},
		{"ir-procedure", JSON(map[string]any{"resourceType": "Procedure", "status": "completed",
			"code":    cc(coding(ait, "ir-procedure"), coding(ait, "cimentoplasty")),
			"subject": reference(d.Patient), "basedOn": []any{reference(d.Referral)}, "performedDateTime": "2026-05-14T09:00:00Z",
			"bodySite": []any{map[string]any{"text": "L2"}}, "performer": []any{map[string]any{"actor": reference(by)}}}), "C C C C S", ""},
		{"ir-follow-up", enc("ir-follow-up", "2026-06-12T09:00:00Z"), "C C C C C", ""},
	}
}

// Placeholders name, on the implementer page, the resources a client substitutes
// with its own: the patient and referral of an AIT and of an IR pathway, and the cast.
var (
	PlaceholderAIT           = Dossier{Patient: "Patient/{patient}", Referral: "ServiceRequest/{referral}"}
	PlaceholderIR            = Dossier{Patient: "Patient/{ir-patient}", Referral: "ServiceRequest/{ir-referral}"}
	PlaceholderIRRadiologist = "Practitioner/{radiologist}"
	PlaceholderCast          = Cast{Algologist: "Practitioner/{algologist}", AlgologistRole: "PractitionerRole/{algologist-role}",
		Anaesthetist: "PractitionerRole/{anaesthetist-role}", Implanter: "PractitionerRole/{implanter-role}",
		Refiller: "Practitioner/{refiller}", RefillCentre: "Organization/{refill-centre}", Nurse: "Practitioner/{nurse}"}
)

// Examples are one example per step fact, for the implementer page: the kit's steps
// written with the placeholders.
func Examples() map[string][]byte {
	out := map[string][]byte{}
	add := func(steps []Step) {
		for _, s := range steps {
			ev, ok, err := mapping.ReadEvent(s.Body, mapping.Actor{})
			if ok && err == nil && out[ev.Fact] == nil {
				out[ev.Fact] = s.Body
			}
		}
	}
	add(AITSteps(PlaceholderAIT, PlaceholderCast))
	add(IRSteps(PlaceholderIR, PlaceholderIRRadiologist))
	return out
}
