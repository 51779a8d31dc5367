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
// https://fhir.aitgw.org/ig/ait), in one place. Everything the mapping writes under
// Base exists in the guide (TestCanonicalURLsAreInTheGuide keeps it so).
const (
	// Base is the canonical base of the AIT implementation guide.
	Base = "https://fhir.aitgw.org/ig/ait"

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
	ProfileImagingStudy     = Base + "/StructureDefinition/ait-imaging-study"
	ProfileCondition        = Base + "/StructureDefinition/ait-condition"
	ProfileIRCarePlan       = Base + "/StructureDefinition/ait-ir-careplan"

	// CodeSystemAIT holds the guide's codes: pathway steps (AIT and IR), step facts
	// and their qualifiers (consent given, on methadone, refill centre differs), RCP
	// decisions, techniques, dossier elements, procedures, score components,
	// contraindications, milestones.
	CodeSystemAIT = Base + "/CodeSystem/ait"
	// CodeSystemSeed codes the seed section a rule comes from (issue details).
	CodeSystemSeed = Base + "/CodeSystem/ait-seed-section"
	// CodeSystemScore codes score answers ("mirels-site-upper-limb": component code
	// and answer) and interpretation bands ("mirels-low", "sins-stable").
	CodeSystemScore = Base + "/CodeSystem/ait-score"
	// CodeSystemRole codes the actors of the pathways (pathways.md, "Actors").
	CodeSystemRole = rules.SystemPractitionerRole

	// ExtNextRefill carries the next refill date on a discharge or refill resource.
	ExtNextRefill = Base + "/StructureDefinition/ait-next-refill-date"
	// ExtMolecule names the molecule of a prescription's dosage line (its rateQuantity
	// is then that molecule's daily dose).
	ExtMolecule = Base + "/StructureDefinition/ait-molecule"
	// ExtVolumeInstilled is the volume put in the pump's reservoir at a refill (mL).
	ExtVolumeInstilled = Base + "/StructureDefinition/ait-volume-instilled"
	// ExtFlowRate is the pump's programmed flow (mL/d) after a refill.
	ExtFlowRate = Base + "/StructureDefinition/ait-flow-rate"
	// ExtNormalisedValue carries a value converted to the canonical UCUM unit; the
	// submitted value stays where it was.
	ExtNormalisedValue = Base + "/StructureDefinition/ait-normalised-value"
	// ExtOverdue flags a CarePlan activity whose deadline has passed.
	ExtOverdue = Base + "/StructureDefinition/ait-activity-overdue"
	// ExtDeadlineSection names the seed section of an activity's deadline.
	ExtDeadlineSection = Base + "/StructureDefinition/ait-deadline-section"
	// ExtScoreAnswer carries the answer of one score component (the guide's component
	// value is the points only).
	ExtScoreAnswer = Base + "/StructureDefinition/ait-score-answer"
	// ExtPlannedDate carries the planned implantation date on a planning resource.
	ExtPlannedDate = Base + "/StructureDefinition/ait-planned-implantation"
	// ExtPathwayState carries the pathway state (facts and flags) in the CarePlan, so
	// that the stored CarePlan is the whole state and PathwayFromCarePlan resumes it.
	ExtPathwayState = Base + "/StructureDefinition/ait-pathway-state"

	// IdentifierIntake is the system of identifiers the gateway derives for resources
	// sent without one, so that a referral posted twice creates nothing twice.
	IdentifierIntake = Base + "/NamingSystem/ait-intake"
	// IdentifierCarePlan is the system of the pathway CarePlan identifier.
	IdentifierCarePlan = Base + "/NamingSystem/ait-careplan"
	// IdentifierDetectedIssue is the system of the DetectedIssues the gateway records
	// for the clinical warnings of its rules: one per resource and rule.
	IdentifierDetectedIssue = Base + "/NamingSystem/ait-detected-issue"

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
	CodePathwayCategory = "ait-pathway"       // CarePlan.category of the AIT pathway
	CodeIRCategory      = "ir-pathway"        // CarePlan.category of the IR pathway
	CodeRCPReview       = "rcp-review"        // Task.code of the RCP decision
	CodeRCPDecision     = "rcp-decision"      // Task.output.type: the decision
	CodeRCPTechnique    = "rcp-technique"     // Task.output.type: the technique
	CodeRCPAccepted     = "accepted"          // Task.output value: accepted
	CodeRCPRefused      = "refused"           // Task.output value: refused
	CodeImplantation    = "pump-implantation" // Procedure.code of the implantation
	CodeRefill          = "pump-refill"       // Procedure.code of a refill
)

// Codes of CodeSystemAIT that qualify a step resource (besides the step facts of
// rules.Fact*, coded in CodeSystemAIT when the guide has no resource for them).
const (
	CodeConsentGiven        = "consent-given"
	CodeOnMethadone         = "on-methadone"
	CodeRefillCentreDiffers = "refill-centre-differs"
)

// systemByAlias resolves the code system aliases of the rules tables.
var systemByAlias = map[string]string{rules.AliasLOINC: SystemLOINC, rules.AliasAIT: CodeSystemAIT}

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
