// Package mapping is the clinical core of the gateway: it recognises the resources
// of a referral, maps them to the AIT profiles, says what the dossier lacks, checks
// eligibility and prescriptions, and runs the AIT and IR pathways. It is pure: no
// server, no store; data it must read comes through the Records interface.
package mapping

import (
	"strings"

	"github.com/aitgw/aitgw/mapping/rules"
)

// Canonical URLs of the AIT implementation guide (profiles/package, canonical
// https://fhir.aitgw.org/ig/ait), in one place. What the guide does not define yet
// lives under Pending, the mapping's own provisional base, until the guide adds it
// (each such constant says so); TestCanonicalURLsAreInTheGuide keeps the split honest.
const (
	// Base is the canonical base of the AIT implementation guide.
	Base = "https://fhir.aitgw.org/ig/ait"
	// Pending is the provisional base of what the guide lacks (not under Base, so that
	// nothing claims to be part of the guide before it is).
	Pending = "https://aitgw.example.org/fhir"

	ProfilePatient          = Base + "/StructureDefinition/ait-patient"
	ProfilePractitioner     = Base + "/StructureDefinition/ait-practitioner"
	ProfileOrganization     = Base + "/StructureDefinition/ait-organization"
	ProfileReferral         = Base + "/StructureDefinition/ait-referral"
	ProfileLab              = Base + "/StructureDefinition/ait-lab-result"
	ProfilePain             = Base + "/StructureDefinition/ait-pain-assessment"
	ProfilePerformance      = Base + "/StructureDefinition/ait-performance-status"
	ProfileLifeExpectancy   = Base + "/StructureDefinition/ait-life-expectancy"
	ProfileDocument         = Base + "/StructureDefinition/ait-oncology-opinion"
	ProfileMedicationReview = Base + "/StructureDefinition/ait-medication-review"
	ProfileImagingReport    = Base + "/StructureDefinition/ait-imaging-report"
	ProfileCarePlan         = Base + "/StructureDefinition/ait-careplan"
	ProfileRCPDecision      = Base + "/StructureDefinition/ait-rcp-decision"
	ProfileImplantation     = Base + "/StructureDefinition/ait-implantation"
	ProfileRefill           = Base + "/StructureDefinition/ait-refill"
	ProfilePrescription     = Base + "/StructureDefinition/ait-intrathecal-prescription"
	ProfileIRProcedure      = Base + "/StructureDefinition/ait-ir-procedure"
	ProfileMirels           = Base + "/StructureDefinition/ait-mirels"
	ProfileSINS             = Base + "/StructureDefinition/ait-sins"

	// ProfileImagingStudy: the guide has no ImagingStudy profile (pending).
	ProfileImagingStudy = Pending + "/StructureDefinition/ait-imaging-study"
	// ProfileCondition: the guide has no Condition profile (pending).
	ProfileCondition = Pending + "/StructureDefinition/ait-condition"
	// ProfileIRCarePlan: the guide has no IR CarePlan profile (pending).
	ProfileIRCarePlan = Pending + "/StructureDefinition/ir-careplan"

	// CodeSystemAIT holds the guide's codes: pathway steps, RCP decisions, techniques,
	// dossier elements, procedures, score components, milestones.
	CodeSystemAIT = Base + "/CodeSystem/ait"
	// CodeSystemSeed codes the seed section a rule comes from (issue details).
	CodeSystemSeed = Base + "/CodeSystem/ait-seed-section"
	// CodeSystemPending holds the codes the mapping needs and the guide lacks: the
	// step facts without a guide resource (consent, consultations, planning,
	// admission, discharge…), the qualifiers of a step (consent given, on methadone,
	// refill centre differs), the overdue milestones. Pending.
	CodeSystemPending = Pending + "/CodeSystem/ait-pathway"
	// CodeSystemScore codes score answers and interpretation bands (Mirels, SINS):
	// the guide codes the components (CodeSystemAIT) but not their answers nor the
	// bands. Pending.
	CodeSystemScore = Pending + "/CodeSystem/ait-score"

	// ExtNextRefill carries the next refill date on a discharge or refill resource.
	ExtNextRefill = Base + "/StructureDefinition/ait-next-refill-date"

	// ExtNormalisedValue carries a value converted to the canonical UCUM unit; the
	// submitted value stays where it was. Pending.
	ExtNormalisedValue = Pending + "/StructureDefinition/normalised-value"
	// ExtOverdue flags a CarePlan activity whose deadline has passed. Pending.
	ExtOverdue = Pending + "/StructureDefinition/activity-overdue"
	// ExtDeadlineSection names the seed section of an activity's deadline. Pending.
	ExtDeadlineSection = Pending + "/StructureDefinition/deadline-section"
	// ExtScoreAnswer carries the answer of one score component (the guide's component
	// value is the points only). Pending.
	ExtScoreAnswer = Pending + "/StructureDefinition/score-answer"
	// ExtPlannedDate carries the planned implantation date on a planning resource. Pending.
	ExtPlannedDate = Pending + "/StructureDefinition/planned-implantation"
	// ExtPathwayState carries the pathway state (facts and flags) in the CarePlan, so
	// that the stored CarePlan is the whole state and PathwayFromCarePlan resumes it.
	// Pending.
	ExtPathwayState = Pending + "/StructureDefinition/pathway-state"

	// IdentifierIntake is the system of identifiers the gateway derives for resources
	// sent without one, so that a referral posted twice creates nothing twice. Pending
	// (the guide defines no NamingSystem).
	IdentifierIntake = "urn:aitgw:intake"
	// IdentifierCarePlan is the system of the pathway CarePlan identifier. Pending.
	IdentifierCarePlan = "urn:aitgw:careplan"

	// IdentifierRPPS is the RPPS number of a health professional (11 digits), as the
	// guide's AITPractitioner asks for it.
	IdentifierRPPS = "https://rpps.esante.gouv.fr"
	// IdentifierIdNatPS is the French national health-professional identifier of FR
	// Core (ANS IdNat_PS: "8" + RPPS for RPPS-registered professionals).
	IdentifierIdNatPS = "urn:oid:1.2.250.1.71.4.2.1"

	// Known external systems.
	SystemLOINC  = "http://loinc.org"
	SystemSNOMED = "http://snomed.info/sct"
	SystemUCUM   = "http://unitsofmeasure.org"
	SystemATC    = "http://www.whocc.no/atc"
	// SystemInterpretation is the R4 observation-interpretation code system.
	SystemInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
)

// Codes of the guide (CodeSystemAIT) the pathway reads and writes.
const (
	CodePathwayCategory = "ait-pathway"       // CarePlan.category
	CodeRCPReview       = "rcp-review"        // Task.code of the RCP decision
	CodeRCPDecision     = "rcp-decision"      // Task.output.type: the decision
	CodeRCPTechnique    = "rcp-technique"     // Task.output.type: the technique
	CodeRCPAccepted     = "accepted"          // Task.output value: accepted
	CodeRCPRefused      = "refused"           // Task.output value: refused
	CodeImplantation    = "pump-implantation" // Procedure.code of the implantation
	CodeRefill          = "pump-refill"       // Procedure.code of a refill
)

// Codes of CodeSystemPending that qualify a step resource (besides the step facts of
// rules.Fact*, which are coded in CodeSystemPending when the guide has no resource for
// them).
const (
	CodeConsentGiven        = "consent-given"
	CodeOnMethadone         = "on-methadone"
	CodeRefillCentreDiffers = "refill-centre-differs"
)

// systemByAlias resolves the code system aliases of the rules tables.
var systemByAlias = map[string]string{rules.AliasLOINC: SystemLOINC, rules.AliasAIT: CodeSystemAIT, rules.AliasPending: CodeSystemPending}

// resolveCodes turns "alias|code" keys into "system|code" keys.
func resolveCodes(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		alias, code, _ := strings.Cut(k, "|")
		if sys, ok := systemByAlias[alias]; ok {
			out = append(out, sys+"|"+code)
		}
	}
	return out
}
