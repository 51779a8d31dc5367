package smart

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

//go:generate go test -run TestConfinementDocIsCurrent -update-confinement-doc .

// Confinement classes: how the gateway confines a resource type for a client limited
// to patients (a patient-context token, or a user/ token, see CareOf).
const (
	// ClassCompartment: in the R4 patient compartment; a confined client sees the
	// resources whose compartment parameters reference one of its patients.
	ClassCompartment = "patient compartment"
	// ClassCompartmentExtension: outside the R4 definition but about one patient
	// through a search parameter; confined as ClassCompartment.
	ClassCompartmentExtension = "patient compartment (gateway extension)"
	// ClassAudit: the audit trail; in the compartment, and reachable only by an
	// explicit AuditEvent scope (wildcards stop there, see AuditScope), through any
	// path (_has, chains, includes); never written by a client.
	ClassAudit = "audit trail"
	// ClassOwned: visible to the client that wrote it and to system scopes only; its
	// secret elements go to its owner only.
	ClassOwned = "owner only"
	// ClassSystemOnly: may carry any patient's data, and nothing links it to one
	// patient: a confined client sees none.
	ClassSystemOnly = "system scopes only"
	// ClassPublic: conformance served without a token.
	ClassPublic = "public conformance"
	// ClassReference: reference data (professionals, organisations, medications,
	// definitions): the scopes decide, no compartment.
	ClassReference = "reference data"
)

// compartmentExtension are the gateway's additions to the patient compartment: types
// the R4 definition leaves out although a search parameter names their patient.
var compartmentExtension = map[string]struct {
	Params []string
	Why    string
}{
	"Device":           {[]string{"patient"}, "an implanted pump and its catheter name their patient (Device.patient)"},
	"Binary":           {[]string{"security-context"}, "the PDF of a letter or summary document names its patient (Binary.securityContext, the guide's search parameter)"},
	"Task":             {[]string{"patient"}, "a task for a patient (Task.for)"},
	"Contract":         {[]string{"patient"}, "a patient's contract or consent-like agreement (Contract.subject)"},
	"GuidanceResponse": {[]string{"patient"}, "decision support about a patient (GuidanceResponse.subject)"},
}

// compartmentNotes are the compartment types confined further than by membership
// (fhir/rest does it).
var compartmentNotes = map[string]string{
	"Group": "seen by a confined reader only when every Patient member is one it may see: a cohort lists the other patients",
}

// systemOnlyTypes may hold patient data that no search parameter ties to one patient.
var systemOnlyTypes = map[string]string{
	"Bundle":                     "stored documents and messages hold any patient's data",
	"Linkage":                    "links records of different patients",
	"MessageHeader":              "messaging metadata about any patient",
	"BiologicallyDerivedProduct": "products derived from a patient, with no patient parameter",
	"VerificationResult":         "verification of any target",
	"EnrollmentResponse":         "insurance enrolment",
	"PaymentNotice":              "financial",
	"PaymentReconciliation":      "financial",
	"OperationOutcome":           "outcomes may quote any resource",
	"Parameters":                 "operation parameters may carry any resource",
}

// publicTypes are served without a token.
var publicTypes = map[string]string{
	"CapabilityStatement": "served at [base]/metadata without a token; other instances need a scope",
}

// referenceTypes are reference data, listed one by one so that a type is never
// reference data by default.
var referenceTypes = []string{
	"ActivityDefinition", "CatalogEntry", "ChargeItemDefinition", "CodeSystem", "CompartmentDefinition",
	"ConceptMap", "DeviceDefinition", "DeviceMetric", "EffectEvidenceSynthesis", "Endpoint", "EventDefinition",
	"Evidence", "EvidenceVariable", "ExampleScenario", "GraphDefinition", "HealthcareService",
	"ImplementationGuide", "InsurancePlan", "Library", "Location", "Measure", "Medication",
	"MedicationKnowledge", "MedicinalProduct", "MedicinalProductAuthorization",
	"MedicinalProductContraindication", "MedicinalProductIndication", "MedicinalProductIngredient",
	"MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged",
	"MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "MessageDefinition",
	"NamingSystem", "ObservationDefinition", "OperationDefinition", "Organization",
	"OrganizationAffiliation", "PlanDefinition", "Practitioner", "PractitionerRole", "Questionnaire",
	"ResearchDefinition", "ResearchElementDefinition", "ResearchStudy", "RiskEvidenceSynthesis",
	"SearchParameter", "Slot", "SpecimenDefinition", "StructureDefinition", "StructureMap", "Substance",
	"SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation",
	"SubstanceSourceMaterial", "SubstanceSpecification", "TerminologyCapabilities", "TestReport",
	"TestScript", "ValueSet",
}

// TypeConfinement is how one resource type is confined.
type TypeConfinement struct {
	Type  string
	Class string
	// Params are the search parameters linking it to its patient (compartment classes).
	Params []string
	// Secrets are the elements returned to the resource's owner only.
	Secrets []string
	// Why explains a class the R4 compartment does not give.
	Why string
}

// ConfinementOf returns how typ is confined; Class is "" for a type the table
// forgets (TestConfinementCoversEveryType fails then).
func ConfinementOf(typ string) TypeConfinement {
	c := TypeConfinement{Type: typ, Secrets: rest.SecretElements(typ)}
	switch {
	case slices.Contains(rest.OwnedTypes(), typ):
		c.Class, c.Why = ClassOwned, "names a receiver and carries its credentials"
	case typ == auditType:
		c.Class, c.Params = ClassAudit, CompartmentParams(typ)
		c.Why = "explicit AuditEvent scope only (" + AuditScope + "); never written by clients"
	case patientCompartment[typ] != nil:
		c.Class, c.Params, c.Why = ClassCompartment, CompartmentParams(typ), compartmentNotes[typ]
	case compartmentExtension[typ].Params != nil:
		c.Class, c.Params, c.Why = ClassCompartmentExtension, CompartmentParams(typ), compartmentExtension[typ].Why
	case systemOnlyTypes[typ] != "":
		c.Class, c.Why = ClassSystemOnly, systemOnlyTypes[typ]
	case publicTypes[typ] != "":
		c.Class, c.Why = ClassPublic, publicTypes[typ]
	case slices.Contains(referenceTypes, typ):
		c.Class = ClassReference
	}
	if len(c.Secrets) > 0 && c.Why == "" {
		c.Why = "its " + strings.Join(c.Secrets, ", ") + " may hold a receiver's credentials: returned to the client that wrote it only"
	}
	return c
}

// ConfinementTable lists every R4 resource type with its confinement.
func ConfinementTable() []TypeConfinement {
	var out []TypeConfinement
	for _, t := range fhir.ResourceTypes() {
		out = append(out, ConfinementOf(t))
	}
	return out
}

// ConfinementMarkdown renders the table as the CONFINEMENT.md document.
func ConfinementMarkdown() []byte {
	var b strings.Builder
	b.WriteString("# How each resource type is confined\n\n")
	b.WriteString("Generated by `go generate ./server/smart` from `server/smart/confinement.go`; do not edit.\n")
	b.WriteString("`TestConfinementCoversEveryType` derives the list from every R4 resource type and the R4 Patient\n")
	b.WriteString("CompartmentDefinition, so that no type is forgotten.\n\n")
	b.WriteString("A *confined* client is one limited to patients: a `patient/` scope confines to the patient in\n")
	b.WriteString("context; a `user/` scope to what its fhirUser may see (a Patient: itself; a RelatedPerson: its\n")
	b.WriteString("patient; a Practitioner: the patients whose CarePlan or CareTeam names it, every patient for a\n")
	b.WriteString("coordinating algologist; nobody else). A `system/` scope is not confined. The same rules apply\n")
	b.WriteString("on every path: read, vread, search, history, chains, `_has`, `_include` and `_revinclude`\n")
	b.WriteString("(`:iterate` included), operations and transaction entries.\n\n")
	b.WriteString("| Resource type | Confinement | Patient parameters | Owner-only elements | Why |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, c := range ConfinementTable() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Type, c.Class, code(c.Params), code(c.Secrets), c.Why)
	}
	return []byte(b.String())
}

// code renders a list as inline code, comma-separated.
func code(list []string) string {
	var out []string
	for _, s := range list {
		out = append(out, "`"+s+"`")
	}
	return strings.Join(out, ", ")
}
