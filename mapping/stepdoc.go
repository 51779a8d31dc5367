package mapping

import (
	"fmt"
	"sort"

	"github.com/aitgw/aitgw/mapping/rules"
)

// DocItem is one code or extension a step resource carries, and what it means.
type DocItem struct {
	// Key is a "system|code" coding or an extension URL.
	Key, Element, Type, Unit, Meaning string
}

// StepDoc is how an EHR codes one pathway step, as the gateway recognises it
// (ReadEvent, guideSteps, the qualifier codes and extensions below) and the rules
// check it (rules.Requirements, rules.ActorRules, rules.Deadlines): the implementer
// page (/ig/) is generated from it.
type StepDoc struct {
	Pathway, Fact, Display, Section string
	// Resource is the resource type; CodeElement holds Code ("system|code").
	Resource, CodeElement, Code string
	// DateElement holds the step's date; ActorElement who recorded it.
	DateElement, ActorElement string
	Qualifiers, Extensions    []DocItem
	// Needs, Actors and Delays are read from the rules tables.
	Needs, Actors, Delays []string
}

// guideSteps are the guide's own resources that name a step by their code (the rest
// name it by the step's fact code, CodeSystemAIT, in code/type/category/class).
var guideSteps = []struct{ Resource, Code, Fact string }{
	{"Task", CodeRCPReview, rules.FactRCPDecision},
	{"Procedure", CodeImplantation, rules.FactImplantation},
	{"Procedure", CodeRefill, rules.FactRefill},
}

// stepShapes are the resource each step is posted as, where its date and actor go.
var stepShapes = map[string]struct{ Resource, CodeElement, DateElement, ActorElement string }{
	rules.FactRCPDecision:      {"Task", "Task.code", "Task.executionPeriod.start", "Task.owner"},
	rules.FactAlgologyConsult:  {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactAnaesthesiaVisit: {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactPlanning:         {"ServiceRequest", "ServiceRequest.code", "ServiceRequest.authoredOn", "ServiceRequest.requester"},
	rules.FactPrescription:     {"MedicationRequest", "MedicationRequest.meta.profile", "MedicationRequest.authoredOn", "MedicationRequest.requester"},
	rules.FactAdmission:        {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactImplantation:     {"Procedure", "Procedure.code", "Procedure.performedDateTime", "Procedure.performer.actor"},
	rules.FactDischarge:        {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactFollowUp:         {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactRefill:           {"Procedure", "Procedure.code", "Procedure.performedDateTime", "Procedure.performer.actor"},
	rules.FactComplication:     {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactIRRCP:            {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactIRConsultation:   {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
	rules.FactIRProcedure:      {"Procedure", "Procedure.code", "Procedure.performedDateTime", "Procedure.performer.actor"},
	rules.FactIRFollowUp:       {"Encounter", "Encounter.type", "Encounter.period.start", "Encounter.participant.individual"},
}

// stepQualifiers are the codes (CodeSystemAIT) ReadEvent reads beside the step code.
var stepQualifiers = map[string][]DocItem{
	rules.FactRCPDecision: {
		{Key: CodeSystemAIT + "|" + CodeRCPDecision, Element: "Task.output.type", Meaning: "the decision: output value " + CodeRCPAccepted + " or " + CodeRCPRefused + " (000 §VI)"},
		{Key: CodeSystemAIT + "|" + CodeRCPTechnique, Element: "Task.output.type", Meaning: "the technique: output value " + rules.TechniquePump.Code + " or " + rules.TechniquePort.Code + " (000 §VI)"},
		{Key: CodeSystemAIT + "|rcp-life-expectancy-basis", Element: "Task.output.type", Meaning: "the life-expectancy Observation the technique rests on (000 §VI)"},
	},
	rules.FactAlgologyConsult: {{Key: CodeSystemAIT + "|" + CodeConsentGiven, Element: "Encounter.type", Meaning: "the patient gave written consent (000 §VII): a second coding on the type"}},
	rules.FactAdmission:       {{Key: CodeSystemAIT + "|" + CodeOnMethadone, Element: "Encounter.type", Meaning: "the patient is on methadone: admission 48 h before (000 §X)"}},
	rules.FactDischarge:       {{Key: CodeSystemAIT + "|" + CodeRefillCentreDiffers, Element: "Encounter.type", Meaning: "the refill centre is not the implanting centre: a letter to its physician (000 §XI)"}},
	rules.FactIRProcedure:     {{Key: CodeSystemAIT + "|cimentoplasty", Element: "Procedure.code", Meaning: "a cimentoplasty: its imaging and antithrombotic prerequisites are checked (004)"}},
}

// computedRefillDoc documents the one extension the gateway writes on a step.
const computedRefillDoc = "written by the gateway, not the client, in the version the client stores: the next refill " +
	"computed from the volume and the flow of the refill (at discharge: of the implantation), beside the EHR's date (000 §XIII, 001)"

// stepExtensions are the guide's extensions the rules read on a step, and the one the
// gateway adds to it.
var stepExtensions = map[string][]DocItem{
	rules.FactPlanning: {{Key: ExtPlannedDate, Type: "dateTime", Meaning: "the planned implantation date (000 §VIII)"}},
	rules.FactDischarge: {
		{Key: ExtNextRefill, Type: "dateTime", Meaning: "the first refill date, set before discharge (000 §XI)"},
		{Key: ExtComputedNextRefill, Type: "dateTime", Meaning: computedRefillDoc},
	},
	rules.FactRefill: {
		{Key: ExtNextRefill, Type: "dateTime", Meaning: "the next refill date: 3 weeks to 3 months (000 §XIII, 001)"},
		{Key: ExtVolumeInstilled, Type: "Quantity", Unit: "mL", Meaning: "the volume put in the reservoir: 20 to 40 mL (001)"},
		{Key: ExtFlowRate, Type: "Quantity", Unit: "mL/d", Meaning: "the programmed flow, to date the pump's running dry (000 §XIII)"},
		{Key: ExtComputedNextRefill, Type: "dateTime", Meaning: computedRefillDoc},
	},
	rules.FactPrescription: {{Key: ExtMolecule, Element: "MedicationRequest.dosageInstruction", Type: "Coding", Unit: "mg/d, ug/d", Meaning: "the molecule of a dosage line; doses in mg/d or ug/d (000 §IX)"}},
}

// StepDocs documents every step a client posts, AIT then IR, in pathway order.
func StepDocs() []StepDoc {
	var out []StepDoc
	for _, kind := range []string{KindAIT, KindIR} {
		steps := rules.AITSteps
		if kind == KindIR {
			steps = rules.IRSteps
		}
		seen := map[string]bool{}
		for _, s := range steps {
			for _, f := range append(append([]string{}, s.StartedBy...), s.DoneBy...) {
				shape, ok := stepShapes[f]
				if !ok || seen[f] {
					continue
				}
				seen[f] = true
				d := StepDoc{Pathway: kind, Fact: f, Display: s.Display, Section: s.Section, Resource: shape.Resource,
					CodeElement: shape.CodeElement, Code: CodeSystemAIT + "|" + f, DateElement: shape.DateElement,
					ActorElement: shape.ActorElement, Qualifiers: stepQualifiers[f], Extensions: stepExtensions[f]}
				for _, g := range guideSteps {
					if g.Fact == f {
						d.Code = CodeSystemAIT + "|" + g.Code
					}
				}
				if f == rules.FactPrescription {
					d.Code = ProfilePrescription
				}
				d.Needs, d.Actors, d.Delays = ruleNotes(f)
				out = append(out, d)
			}
		}
		if kind == KindAIT {
			if shape, ok := stepShapes[rules.FactComplication]; ok {
				d := StepDoc{Pathway: kind, Fact: rules.FactComplication, Display: "Complication", Section: "000 §X, §IX",
					Resource: shape.Resource, CodeElement: shape.CodeElement, Code: CodeSystemAIT + "|" + rules.FactComplication,
					DateElement: shape.DateElement, ActorElement: shape.ActorElement}
				d.Needs, d.Actors, d.Delays = ruleNotes(rules.FactComplication)
				out = append(out, d)
			}
		}
	}
	return out
}

// ruleNotes reads what the rules tables say of a step: what it needs first, who may
// record it, the delays it must keep.
func ruleNotes(fact string) (needs, actors, delays []string) {
	for _, r := range rules.Requirements {
		if r.Fact == fact {
			needs = append(needs, fmt.Sprintf("%s (%s)", r.Why, rules.Cite(r.Section)))
		}
	}
	for _, r := range rules.ActorRules {
		if r.Fact == fact {
			var roles []string
			for role := range r.Roles {
				roles = append(roles, string(role))
			}
			sort.Strings(roles)
			actors = append(actors, fmt.Sprintf("%s: %v (%s)", r.Why, roles, rules.Cite(r.Section)))
		}
	}
	for _, d := range rules.Deadlines {
		if d.Of == fact {
			delays = append(delays, fmt.Sprintf("%s (%s)", d.Why, rules.Cite(d.Section)))
		}
	}
	return needs, actors, delays
}
