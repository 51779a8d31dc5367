// Package mapping is the clinical core of the gateway: it recognises the resources
// of a referral, maps them to the AIT profiles, says what the dossier lacks, checks
// eligibility and prescriptions, and runs the AIT and IR pathways. It is pure: no
// server, no store; data it must read comes through the Records interface.
package mapping

import (
	"strings"

	"github.com/aitgw/aitgw/mapping/rules"
)

// Canonical URLs used by the mapping, in one place so that they can be aligned with
// the profiles package when its URLs are fixed.
const (
	// Base is the canonical base of the AIT implementation guide.
	Base = "https://aitgw.example.org/fhir"

	ProfilePatient          = Base + "/StructureDefinition/ait-patient"
	ProfilePractitioner     = Base + "/StructureDefinition/ait-practitioner"
	ProfileReferral         = Base + "/StructureDefinition/ait-referral"
	ProfileLab              = Base + "/StructureDefinition/ait-lab-observation"
	ProfilePain             = Base + "/StructureDefinition/ait-pain-assessment"
	ProfilePerformance      = Base + "/StructureDefinition/ait-performance-status"
	ProfileLifeExpectancy   = Base + "/StructureDefinition/ait-life-expectancy"
	ProfileDocument         = Base + "/StructureDefinition/ait-dossier-document"
	ProfileMedicationReview = Base + "/StructureDefinition/ait-medication-statement"
	ProfileImagingReport    = Base + "/StructureDefinition/ait-imaging-report"
	ProfileImagingStudy     = Base + "/StructureDefinition/ait-imaging-study"
	ProfileCondition        = Base + "/StructureDefinition/ait-condition"
	ProfileCarePlan         = Base + "/StructureDefinition/ait-careplan"
	ProfileIRCarePlan       = Base + "/StructureDefinition/ir-careplan"
	ProfileMirels           = Base + "/StructureDefinition/mirels-score"
	ProfileSINS             = Base + "/StructureDefinition/sins-score"

	// CodeSystemAIT holds the gateway's codes: dossier elements, pathway steps,
	// techniques, contraindications, milestones.
	CodeSystemAIT = Base + "/CodeSystem/ait"
	// CodeSystemSeed codes the seed section a rule comes from (issue details).
	CodeSystemSeed = Base + "/CodeSystem/ait-seed-section"
	// CodeSystemScore codes score answers and bands (Mirels, SINS).
	CodeSystemScore = Base + "/CodeSystem/ait-score"

	// ExtNormalisedValue carries a value converted to the canonical UCUM unit; the
	// submitted value stays where it was.
	ExtNormalisedValue = Base + "/StructureDefinition/normalised-value"
	// ExtOverdue flags a CarePlan activity whose deadline has passed.
	ExtOverdue = Base + "/StructureDefinition/activity-overdue"
	// ExtDeadlineSection names the seed section of an activity's deadline.
	ExtDeadlineSection = Base + "/StructureDefinition/deadline-section"

	// ExtScorePoints carries the points of one score component (Mirels, SINS).
	ExtScorePoints = Base + "/StructureDefinition/score-points"

	// ExtNextRefill carries the next refill date on a discharge or refill resource.
	ExtNextRefill = Base + "/StructureDefinition/next-refill"
	// ExtPlannedDate carries the planned implantation date on a planning resource.
	ExtPlannedDate = Base + "/StructureDefinition/planned-implantation"

	// ExtPathwayState carries the pathway state (facts and flags) in the CarePlan, so
	// that the stored CarePlan is the whole state and PathwayFromCarePlan resumes it.
	ExtPathwayState = Base + "/StructureDefinition/pathway-state"

	// IdentifierIntake is the system of identifiers the gateway derives for
	// resources sent without one, so that a referral posted twice creates nothing twice.
	IdentifierIntake = "urn:aitgw:intake"
	// IdentifierCarePlan is the system of the pathway CarePlan identifier.
	IdentifierCarePlan = "urn:aitgw:careplan"

	// Known external systems.
	SystemLOINC  = "http://loinc.org"
	SystemSNOMED = "http://snomed.info/sct"
	SystemUCUM   = "http://unitsofmeasure.org"
	SystemATC    = "http://www.whocc.no/atc"
	// SystemInterpretation is the R4 observation-interpretation code system.
	SystemInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
)

// Codes of CodeSystemAIT that qualify a step resource (besides the step facts of
// rules.Fact* and the technique codes of rules.Technique*).
const (
	CodeRCPAccepted         = "rcp-accepted"
	CodeRCPRefused          = "rcp-refused"
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
