package mapping

import (
	"net/http"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// stepFacts are the AIT codes that name what a step resource establishes.
var stepFacts = map[string]bool{}

func init() {
	for _, f := range append(append([]string{}, rules.AITFacts...), rules.IRFacts...) {
		stepFacts[f] = true
	}
}

// aitCodes collects the CodeSystemAIT codes of the CodeableConcepts a step resource
// may carry them in (code, type, category, class, serviceType, outcome, reasonCode).
func aitCodes(m object) []string {
	var ccs []object
	for _, k := range []string{"code", "type", "category", "class", "serviceType", "outcome", "reasonCode", "usedCode", "statusReason"} {
		switch v := m[k].(type) {
		case map[string]any:
			ccs = append(ccs, v)
		case []any:
			for _, x := range v {
				if o, ok := x.(map[string]any); ok {
					ccs = append(ccs, o)
				}
			}
		}
	}
	var out []string
	for _, cc := range ccs {
		// Encounter.class is a Coding, not a CodeableConcept.
		if str(cc, "system") == CodeSystemAIT {
			out = append(out, str(cc, "code"))
		}
		for _, c := range codings(cc) {
			if c.System == CodeSystemAIT {
				out = append(out, c.Code)
			}
		}
	}
	return out
}

// eventDates are the elements a step resource dates itself with, in order.
var eventDates = []string{"performedDateTime", "occurrenceDateTime", "effectiveDateTime", "dateTime", "authoredOn", "sent", "start", "date", "created"}

// EventFromResource reads the pathway event a posted step resource stands for. The
// step is named by a CodeSystemAIT code equal to a rules.Fact* value in code, type,
// category, class or serviceType (a Consent with status active is a consent); its date
// is performed/occurrence/effective/period start; the RCP outcome, technique, consent
// given, methadone and refill-centre flags are CodeSystemAIT codes; the next refill and
// the planned implantation dates are extensions (ExtNextRefill, ExtPlannedDate). actor
// is who posted it, as the server resolved it from the token or the performer.
func EventFromResource(body []byte, actor Actor) (Event, error) {
	m, err := decodeObject(body)
	if err != nil {
		return Event{}, fhir.Errorf(http.StatusBadRequest, "structure", "", "not a JSON object")
	}
	ev := Event{Actor: actor}
	for _, c := range aitCodes(m) {
		switch {
		case stepFacts[c] && ev.Fact == "":
			ev.Fact = c
		case c == CodeRCPAccepted:
			ev.Accepted = true
		case c == CodeConsentGiven:
			ev.Consent = true
		case c == CodeOnMethadone:
			ev.OnMethadone = true
		case c == CodeRefillCentreDiffers:
			ev.RefillCentreDiffers = true
		case c == rules.TechniquePump.Code || c == rules.TechniquePort.Code:
			ev.Technique = c
		}
	}
	typ := str(m, "resourceType")
	if ev.Fact == "" && typ == "Consent" && str(m, "status") == "active" {
		ev.Fact = rules.FactConsent
	}
	if ev.Fact == "" {
		return Event{}, fhir.Errorf(http.StatusUnprocessableEntity, "code-invalid", typ+".code",
			"%s names no pathway step: a %s code is expected (000 §III)", typ, CodeSystemAIT)
	}
	for _, k := range eventDates {
		if t, ok := parseDate(str(m, k)); ok {
			ev.At = t
			break
		}
	}
	for _, k := range []string{"performedPeriod", "period", "effectivePeriod"} {
		if p := obj(m, k); p != nil && ev.At.IsZero() {
			ev.At, _ = parseDate(str(p, "start"))
		}
	}
	if ev.At.IsZero() {
		return Event{}, fhir.Errorf(http.StatusUnprocessableEntity, "required", typ+".performed",
			"the %s step has no date (000 §III)", ev.Fact)
	}
	for _, e := range objs(m, "extension") {
		t, _ := parseDate(str(e, "valueDateTime"))
		switch str(e, "url") {
		case ExtNextRefill:
			ev.NextRefill = t
		case ExtPlannedDate:
			ev.Planned = t
		}
	}
	return ev, nil
}
