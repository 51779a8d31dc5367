package mapping

import (
	"net/http"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// stepFacts are the codes that name what a step resource establishes.
var stepFacts = map[string]bool{}

func init() {
	for _, f := range append(append([]string{}, rules.AITFacts...), rules.IRFacts...) {
		stepFacts[f] = true
	}
}

// codedConcept is one code of a step resource, with its system.
type codedConcept struct{ System, Code string }

// stepCodes collects the CodeSystemAIT codes of the
// CodeableConcepts a step resource may carry them in, the RCP Task's outputs included.
func stepCodes(m object) []codedConcept {
	var ccs []object
	collect := func(v any) {
		switch v := v.(type) {
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
	for _, k := range []string{"code", "type", "category", "class", "serviceType", "outcome", "reasonCode", "usedCode", "statusReason"} {
		collect(m[k])
	}
	for _, o := range objs(m, "output") { // Task (RCP decision): output.value
		collect(o["valueCodeableConcept"])
	}
	var out []codedConcept
	keep := func(system, code string) {
		if system == CodeSystemAIT {
			out = append(out, codedConcept{system, code})
		}
	}
	for _, cc := range ccs {
		keep(str(cc, "system"), str(cc, "code")) // Encounter.class is a Coding
		for _, c := range codings(cc) {
			keep(c.System, c.Code)
		}
	}
	return out
}

// guideStep names the step facts the guide's own resources establish: the RCP
// decision Task, the implantation and refill Procedures, the intrathecal prescription.
func guideStep(m object, codes []codedConcept) string {
	typ := str(m, "resourceType")
	for _, c := range codes {
		if c.System != CodeSystemAIT {
			continue
		}
		for _, g := range guideSteps { // the table the implementer page documents
			if typ == g.Resource && c.Code == g.Code {
				return g.Fact
			}
		}
	}
	if typ == "MedicationRequest" {
		for _, p := range arr(obj(m, "meta"), "profile") {
			if p == ProfilePrescription {
				return rules.FactPrescription
			}
		}
	}
	return ""
}

// eventDates are the elements a step resource dates itself with, in order.
var eventDates = []string{"performedDateTime", "occurrenceDateTime", "effectiveDateTime", "dateTime", "authoredOn", "sent", "start", "date", "created"}

// eventPeriods are the Periods a step resource may date itself with (start).
var eventPeriods = []string{"performedPeriod", "period", "effectivePeriod", "executionPeriod"}

// IsStepCandidate is the cheap test a write hook runs on every write before decoding
// anything: only a resource that mentions the guide (or a Consent) can be a step
// resource. CarePlans never are (the pathway writes them).
func IsStepCandidate(typ string, body []byte) bool {
	if typ == "CarePlan" || body == nil {
		return false
	}
	if typ == "Consent" {
		return true
	}
	s := string(body)
	return strings.Contains(s, Base+"/")
}

// ReadEvent reads the pathway event a stored step resource stands for; ok is false
// when the resource names no step (it is then no business of the pathway).
//
// The step is named, in order: by the guide's resources (Task rcp-review, Procedure
// pump-implantation or pump-refill, a MedicationRequest claiming the intrathecal
// prescription profile); by a CodeSystemAIT code equal to a rules.Fact* value in
// code, type, category, class or serviceType; a Consent with status active is a
// consent. Its date is performed/occurrence/effective/authoredOn… or a period's start.
// The RCP outcome (Task.output rcp-decision "accepted") and the technique are guide
// codes; consent given, methadone and refill-centre flags are CodeSystemAIT codes too;
// the next refill date is the guide's extension (ExtNextRefill), the planned
// implantation date ExtPlannedDate. actor is who recorded it, as the caller resolved it.
func ReadEvent(body []byte, actor Actor) (ev Event, ok bool, err error) {
	m, derr := decodeObject(body)
	if derr != nil {
		return Event{}, false, fhir.Errorf(http.StatusBadRequest, "structure", "", "not a JSON object")
	}
	codes := stepCodes(m)
	ev = Event{Actor: actor, Fact: guideStep(m, codes)}
	for _, c := range codes {
		switch {
		case c.System == CodeSystemAIT && stepFacts[c.Code] && ev.Fact == "":
			ev.Fact = c.Code
		case c.System == CodeSystemAIT && c.Code == CodeRCPAccepted:
			ev.Accepted = true
		case c.System == CodeSystemAIT && c.Code == CodeConsentGiven:
			ev.Consent = true
		case c.System == CodeSystemAIT && c.Code == CodeOnMethadone:
			ev.OnMethadone = true
		case c.System == CodeSystemAIT && c.Code == CodeRefillCentreDiffers:
			ev.RefillCentreDiffers = true
		case c.System == CodeSystemAIT && (c.Code == rules.TechniquePump.Code || c.Code == rules.TechniquePort.Code):
			ev.Technique = c.Code
		}
	}
	typ := str(m, "resourceType")
	if ev.Fact == "" && typ == "Consent" && str(m, "status") == "active" {
		ev.Fact = rules.FactConsent
	}
	if ev.Fact == "" {
		return Event{}, false, nil
	}
	for _, k := range eventDates {
		if t, ok := parseDate(str(m, k)); ok {
			ev.At = t
			break
		}
	}
	for _, k := range eventPeriods {
		if p := obj(m, k); p != nil && ev.At.IsZero() {
			ev.At, _ = parseDate(str(p, "start"))
		}
	}
	if ev.At.IsZero() {
		return Event{}, true, fhir.Errorf(http.StatusUnprocessableEntity, "required", typ+".performed",
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
	return ev, true, nil
}

// EventFromResource is ReadEvent for a resource posted as a step: one that names no
// step is a 422 (000 §III).
func EventFromResource(body []byte, actor Actor) (Event, error) {
	ev, ok, err := ReadEvent(body, actor)
	if err != nil {
		return Event{}, err
	}
	if !ok {
		typ := ""
		if m, derr := decodeObject(body); derr == nil {
			typ = str(m, "resourceType")
		}
		return Event{}, fhir.Errorf(http.StatusUnprocessableEntity, "code-invalid", typ+".code",
			"%s names no pathway step: a guide step resource or a %s code is expected (000 §III)", typ, CodeSystemAIT)
	}
	return ev, nil
}
