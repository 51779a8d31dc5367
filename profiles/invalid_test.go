package profiles

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// invalidCase is an example broken on purpose and the issue it must raise.
type invalidCase struct {
	name     string
	example  string // Type/id of the package example to start from
	edits    []edit
	code     string // expected issue.code
	expr     string // expected issue.expression[0]
	seed     string // expected seed section, for clinical rules
	severity string // default: error
}

const ext = "https://fhir.aitgw.org/ig/ait/StructureDefinition/"

var invalidCases = []invalidCase{
	// AITPatient
	{"patient without GP", "Patient/ait-patient-example", []edit{del("generalPractitioner")}, "required", "Patient.generalPractitioner", "000 §V", ""},
	{"patient INS-NIR malformed", "Patient/ait-patient-example", []edit{set("identifier.0.value", "12345")}, "invariant", "Patient.identifier[0]", "", ""},
	{"patient GP is an Organization", "Patient/ait-patient-example", []edit{set("generalPractitioner.0.reference", "Organization/x")}, "structure", "Patient.generalPractitioner[0].reference", "000 §V", ""},
	{"patient two INS-NIR", "Patient/ait-patient-example", []edit{set("identifier.+", raw(`{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"255081416802538"}`))}, "structure", "Patient.identifier[2]", "", ""},
	// AITPractitioner
	{"practitioner RPPS malformed", "Practitioner/ait-gp-example", []edit{set("identifier.0.value", "12")}, "invariant", "Practitioner.identifier[0]", "", ""},
	{"practitioner without RPPS", "Practitioner/ait-gp-example", []edit{set("identifier.0.system", "urn:oid:1.2.3")}, "required", "Practitioner.identifier", "", ""},
	{"practitioner without name", "Practitioner/ait-gp-example", []edit{del("name")}, "required", "Practitioner.name", "", ""},
	// AITOrganization
	{"centre without network role", "Organization/ait-implanting-centre-example", []edit{set("type.0.coding.0.code", "hospital")}, "business-rule", "Organization", "000 §III", ""},
	{"centre FINESS malformed", "Organization/ait-implanting-centre-example", []edit{set("identifier.0.value", "x")}, "invariant", "Organization.identifier[0]", "", ""},
	{"centre without name", "Organization/ait-implanting-centre-example", []edit{del("name")}, "required", "Organization.name", "", ""},
	// AITPerformanceStatus
	{"performance status 7", "Observation/ait-performance-status-example", []edit{set("valueInteger", 7)}, "business-rule", "Observation", "000 §V", ""},
	{"performance status wrong code", "Observation/ait-performance-status-example", []edit{set("code.coding.0.code", "1234-5")}, "value", "Observation.code", "", ""},
	{"performance status as string", "Observation/ait-performance-status-example", []edit{del("valueInteger"), set("valueString", "2")}, "structure", "Observation.valueString", "", ""},
	// AITLifeExpectancy
	{"life expectancy in kg", "Observation/ait-life-expectancy-example", []edit{set("valueQuantity.code", "kg")}, "business-rule", "Observation", "000 §VI", ""},
	{"life expectancy without subject", "Observation/ait-life-expectancy-example", []edit{del("subject")}, "required", "Observation.subject", "", ""},
	{"life expectancy of a Group", "Observation/ait-life-expectancy-example", []edit{set("subject.reference", "Group/g")}, "structure", "Observation.subject.reference", "", ""},
	// AITOralMorphineEquivalent
	{"OME in mg", "Observation/ait-ome-example", []edit{set("valueQuantity.code", "mg")}, "business-rule", "Observation", "000 §IV", ""},
	{"OME without date", "Observation/ait-ome-example", []edit{del("effectiveDateTime")}, "required", "Observation.effective", "", ""},
	{"OME as a period", "Observation/ait-ome-example", []edit{del("effectiveDateTime"), set("effectivePeriod", raw(`{"start":"2026-03-01"}`))}, "structure", "Observation.effectivePeriod", "", ""},
	// AITPainAssessment
	{"pain type unknown", "Observation/ait-pain-assessment-example", []edit{set("component.0.valueCodeableConcept.coding.0.code", "visceral")}, "code-invalid", "Observation.component[0].valueCodeableConcept", "000 §V", ""},
	{"pain without etiology", "Observation/ait-pain-assessment-example", []edit{del("component.1")}, "required", "Observation.component", "", ""},
	{"pain 11/10", "Observation/ait-pain-assessment-example", []edit{set("valueInteger", 11)}, "business-rule", "Observation", "000 §V", ""},
	{"pain without location", "Observation/ait-pain-assessment-example", []edit{del("bodySite")}, "required", "Observation.bodySite", "", ""},
	// AITLabResult
	{"lab not in the dossier list", "Observation/ait-lab-751-8-example", []edit{set("code.coding.0.code", "1234-5")}, "code-invalid", "Observation.code", "000 §V", ""},
	{"neutropenia", "Observation/ait-lab-751-8-example", []edit{set("valueQuantity.value", 0.3)}, "business-rule", "Observation", "000 §IV", fhir.SeverityWarning},
	{"thrombopenia", "Observation/ait-lab-777-3-example", []edit{set("valueQuantity.value", 50)}, "business-rule", "Observation", "000 §IV", fhir.SeverityWarning},
	{"lab without category", "Observation/ait-lab-751-8-example", []edit{del("category")}, "required", "Observation.category", "", ""},
	// AITImagingReport
	{"imaging of another kind", "DiagnosticReport/ait-imaging-ct-example", []edit{set("code.coding.0.code", "xray")}, "code-invalid", "DiagnosticReport.code", "000 §V", ""},
	{"imaging without conclusion", "DiagnosticReport/ait-imaging-ct-example", []edit{del("conclusion")}, "required", "DiagnosticReport.conclusion", "", ""},
	{"imaging over a period", "DiagnosticReport/ait-imaging-ct-example", []edit{del("effectiveDateTime"), set("effectivePeriod", raw(`{"start":"2026-02-01"}`))}, "structure", "DiagnosticReport.effectivePeriod", "", ""},
	// AITOncologyOpinion
	{"opinion of another kind", "DocumentReference/ait-oncology-opinion-example", []edit{set("type.coding.0.code", "letter")}, "code-invalid", "DocumentReference.type", "000 §V", ""},
	{"opinion without date", "DocumentReference/ait-oncology-opinion-example", []edit{del("date")}, "required", "DocumentReference.date", "", ""},
	{"opinion about a Group", "DocumentReference/ait-oncology-opinion-example", []edit{set("subject.reference", "Group/g")}, "structure", "DocumentReference.subject.reference", "", ""},
	// AITMedicationReview
	{"review by reference", "MedicationStatement/ait-medication-review-example", []edit{del("medicationCodeableConcept"), set("medicationReference", raw(`{"reference":"Medication/m"}`))}, "structure", "MedicationStatement.medicationReference", "", ""},
	{"review about a Group", "MedicationStatement/ait-medication-review-example", []edit{set("subject.reference", "Group/g")}, "structure", "MedicationStatement.subject.reference", "", ""},
	{"review with a bad status", "MedicationStatement/ait-medication-review-example", []edit{set("status", 3)}, "structure", "MedicationStatement.status", "", ""},
	// AITReferral (dossier resolved through the examples)
	{"dossier without neutrophils", "ServiceRequest/ait-referral-example", []edit{del("supportingInfo.4")}, "business-rule", "ServiceRequest", "000 §V", ""},
	{"dossier without pain assessment", "ServiceRequest/ait-referral-example", []edit{del("supportingInfo.3")}, "business-rule", "ServiceRequest", "000 §V.2.b", ""},
	{"labs older than a month", "ServiceRequest/ait-referral-example", []edit{set("authoredOn", "2026-06-01")}, "business-rule", "ServiceRequest", "000 §V", ""},
	{"referral requested by the patient", "ServiceRequest/ait-referral-example", []edit{set("requester.reference", "Patient/ait-patient-example")}, "structure", "ServiceRequest.requester.reference", "000 §V", ""},
	{"referral intent plan", "ServiceRequest/ait-referral-example", []edit{set("intent", "plan")}, "value", "ServiceRequest.intent", "", ""},
	// AITRCPDecision
	{"RCP decision unknown", "Task/ait-rcp-decision-example", []edit{set("output.0.valueCodeableConcept.coding.0.code", "maybe")}, "code-invalid", "Task.output[0].valueCodeableConcept", "", ""},
	{"catheter despite 6 months", "Task/ait-rcp-decision-example", []edit{set("output.1.valueCodeableConcept.coding.0.code", "catheter-port-external-pump")}, "business-rule", "Task", "000 §VI", ""},
	{"accepted without technique", "Task/ait-rcp-decision-example", []edit{del("output.1")}, "business-rule", "Task", "000 §VI", ""},
	{"RCP without participants", "Task/ait-rcp-decision-example", []edit{del("input")}, "required", "Task.input", "", ""},
	// AITPump
	{"reservoir 60 mL", "Device/ait-pump-example", []edit{set("property.0.valueQuantity.0.value", 60)}, "business-rule", "Device", "000 §XIII", ""},
	{"catheter tip T5", "Device/ait-pump-example", []edit{set("property.1.valueCode.0.coding.0.code", "T5")}, "code-invalid", "Device.property[1].valueCode[0]", "", ""},
	{"pump without serial", "Device/ait-pump-example", []edit{del("serialNumber")}, "required", "Device.serialNumber", "", ""},
	{"pump without implant date", "Device/ait-pump-example", []edit{del("extension")}, "required", "Device.extension", "", ""},
	{"battery end after 20 years", "Device/ait-pump-example", []edit{set("expirationDate", "2046-04-02")}, "business-rule", "Device", "000 §XIII", fhir.SeverityWarning},
	// AITImplantation
	{"implanted a patient", "Procedure/ait-implantation-example", []edit{set("focalDevice.0.manipulated.reference", "Patient/ait-patient-example")}, "structure", "Procedure.focalDevice[0].manipulated.reference", "", ""},
	{"implantation without performer", "Procedure/ait-implantation-example", []edit{del("performer")}, "required", "Procedure.performer", "", ""},
	{"implantation date as text", "Procedure/ait-implantation-example", []edit{del("performedDateTime"), set("performedString", "April")}, "structure", "Procedure.performedString", "", ""},
	// AITIntrathecalPrescription
	{"ziconotide 30 ug/d", "MedicationRequest/ait-prescription-example", []edit{set("dosageInstruction.1.doseAndRate.0.rateQuantity.value", 30)}, "business-rule", "MedicationRequest", "000 §IX", ""},
	{"route intravenous", "MedicationRequest/ait-prescription-example", []edit{set("dosageInstruction.0.route", raw(`{"coding":[{"system":"http://snomed.info/sct","code":"47625008"}]}`))}, "code-invalid", "MedicationRequest.dosageInstruction[0].route", "000 §IX", ""},
	{"daily dose per hour", "MedicationRequest/ait-prescription-example", []edit{set("dosageInstruction.0.doseAndRate.0.rateQuantity.code", "mg/h")}, "code-invalid", "MedicationRequest.dosageInstruction[0].doseAndRate[0].rateQuantity", "000 §IX", ""},
	{"four molecules", "MedicationRequest/ait-prescription-example", []edit{
		set("contained.0.ingredient.+", raw(`{"itemCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02CX02"}]},"strength":{"numerator":{"value":1,"system":"http://unitsofmeasure.org","code":"mg"},"denominator":{"value":1,"system":"http://unitsofmeasure.org","code":"mL"}}}`)),
		set("contained.0.ingredient.+", raw(`{"itemCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N01BB09"}]},"strength":{"numerator":{"value":10,"system":"http://unitsofmeasure.org","code":"mg"},"denominator":{"value":1,"system":"http://unitsofmeasure.org","code":"mL"}}}`))},
		"structure", "MedicationRequest.medicationReference.reference", "", ""},
	// AITCompoundedMedication
	{"mixture of four", "Medication/ait-compounded-medication-example", []edit{
		set("ingredient.+", raw(`{"itemCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02CX02"}]},"strength":{"numerator":{"value":1,"system":"http://unitsofmeasure.org","code":"mg"},"denominator":{"value":1,"system":"http://unitsofmeasure.org","code":"mL"}}}`)),
		set("ingredient.+", raw(`{"itemCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N01BB09"}]},"strength":{"numerator":{"value":10,"system":"http://unitsofmeasure.org","code":"mg"},"denominator":{"value":1,"system":"http://unitsofmeasure.org","code":"mL"}}}`))},
		"structure", "Medication.ingredient[3]", "000 §IX", ""},
	{"oxycodone intrathecal", "Medication/ait-compounded-medication-example", []edit{set("ingredient.0.itemCodeableConcept.coding.0.code", "N02AA05")}, "code-invalid", "Medication.ingredient[0].itemCodeableConcept", "000 §IX", ""},
	{"strength in grams", "Medication/ait-compounded-medication-example", []edit{set("ingredient.0.strength.numerator.code", "g")}, "business-rule", "Medication.ingredient[0].strength", "000 §IX", ""},
	// AITRefill
	{"refill without double check", "Procedure/ait-refill-example", []edit{set("extension.5.valueBoolean", false)}, "business-rule", "Procedure", "000 §XIII", ""},
	{"refill 45 mL", "Procedure/ait-refill-example", []edit{set("extension.1.valueQuantity.value", 45)}, "business-rule", "Procedure", "000 §XIII", ""},
	{"refill by an organisation", "Procedure/ait-refill-example", []edit{set("performer.0.actor.reference", "Organization/ait-refill-centre-example")}, "structure", "Procedure.performer[0].actor.reference", "000 §I.2", ""},
	{"next refill in 5 days", "Procedure/ait-refill-example", []edit{set("extension.4.valueDateTime", "2026-05-10")}, "business-rule", "Procedure", "000 §XIII", fhir.SeverityWarning},
	{"refill without volume", "Procedure/ait-refill-example", []edit{del("extension.1")}, "required", "Procedure.extension", "", ""},
	// AITCarePlan
	{"pathway step unknown", "CarePlan/ait-careplan-example", []edit{set("activity.0.detail.code.coding.0.code", "surgery")}, "code-invalid", "CarePlan.activity[0].detail.code", "000 §III", ""},
	{"pathway step twice", "CarePlan/ait-careplan-example", []edit{set("activity.1.detail.code.coding.0.code", "dossier")}, "business-rule", "CarePlan", "000 §III", ""},
	{"pathway step scheduled without window", "CarePlan/ait-careplan-example", []edit{del("activity.3.detail.scheduledPeriod")}, "business-rule", "CarePlan", "000 §III", ""},
	{"pathway after the RCP without coordinator", "CarePlan/ait-careplan-example", []edit{del("author")}, "business-rule", "CarePlan", "000 §VI", fhir.SeverityWarning},
	{"pathway coordinated by an Organization", "CarePlan/ait-careplan-example", []edit{set("author.reference", "Organization/ait-implanting-centre-example")}, "structure", "CarePlan.author.reference", "000 §VI", ""},
	{"pathway identifier twice", "CarePlan/ait-careplan-example", []edit{set("identifier.+", raw(`{"system":"https://fhir.aitgw.org/ig/ait/NamingSystem/ait-careplan","value":"x"}`))}, "structure", "CarePlan.identifier[1]", "", ""},
	{"pathway overdue as text", "CarePlan/ait-careplan-example", []edit{set("activity.1.detail.extension.+", raw(`{"url":"`+ext+`ait-activity-overdue","valueString":"yes"}`))}, "structure", "CarePlan.activity[1].detail.extension[1].valueString", "", ""},
	// AITIRCarePlan
	{"IR pathway with an AIT step", "CarePlan/ait-ir-careplan-example", []edit{set("activity.0.detail.code.coding.0.code", "rcp")}, "code-invalid", "CarePlan.activity[0].detail.code", "003", ""},
	{"IR pathway filed as AIT", "CarePlan/ait-ir-careplan-example", []edit{set("category.0.coding.0.code", "ait-pathway")}, "required", "CarePlan.category", "", ""},
	{"IR step twice", "CarePlan/ait-ir-careplan-example", []edit{set("activity.1.detail.code.coding.0.code", "ir-request")}, "business-rule", "CarePlan", "003", ""},
	{"IR step scheduled without window", "CarePlan/ait-ir-careplan-example", []edit{del("activity.4.detail.scheduledPeriod")}, "business-rule", "CarePlan", "000 §III", ""},
	// AITImagingStudy
	{"imaging study not a dossier imaging", "ImagingStudy/ait-imaging-study-example", []edit{set("procedureCode.0.coding.0.code", "24627-2")}, "business-rule", "ImagingStudy", "000 §V", ""},
	{"imaging study undated", "ImagingStudy/ait-imaging-study-example", []edit{del("started")}, "required", "ImagingStudy.started", "000 §V", ""},
	{"imaging study of a Group", "ImagingStudy/ait-imaging-study-example", []edit{set("subject.reference", "Group/g")}, "structure", "ImagingStudy.subject.reference", "", ""},
	// AITCondition
	{"condition without code", "Condition/ait-condition-example", []edit{del("code")}, "required", "Condition.code", "", ""},
	{"condition without subject", "Condition/ait-condition-example", []edit{del("subject")}, "required", "Condition.subject", "", ""},
	{"condition of a Group", "Condition/ait-condition-example", []edit{set("subject.reference", "Group/g")}, "structure", "Condition.subject.reference", "", ""},
	{"pathway window as text", "CarePlan/ait-careplan-example", []edit{del("activity.0.detail.scheduledPeriod"), set("activity.0.detail.scheduledString", "soon")}, "structure", "CarePlan.activity[0].detail.scheduledString", "", ""},
	// AITIRProcedure
	{"IR acupuncture", "Procedure/ait-ir-procedure-example", []edit{set("code.coding.0.code", "acupuncture")}, "code-invalid", "Procedure.code", "003", ""},
	{"IR family not a technique", "Procedure/ait-ir-procedure-example", []edit{set("code.coding.0.code", "consolidation")}, "code-invalid", "Procedure.code", "003", ""},
	{"IR without site", "Procedure/ait-ir-procedure-example", []edit{del("bodySite")}, "required", "Procedure.bodySite", "", ""},
	// AITMirelsScore
	{"Mirels answer of another item", "Observation/ait-mirels-example", []edit{set("component.0.extension.0.valueCoding.code", "mirels-pain-functional")}, "business-rule", "Observation", "003 annex 4", ""},
	{"Mirels answer scored wrong", "Observation/ait-mirels-example", []edit{set("component.1.extension.0.valueCoding.code", "mirels-pain-mild")}, "business-rule", "Observation", "003 annex 4", ""},
	{"Mirels answer unknown", "Observation/ait-mirels-example", []edit{set("component.1.extension.0.valueCoding.code", "mirels-pain-severe")}, "code-invalid", "Observation.component[1].extension[0].valueCoding", "", ""},
	{"Mirels band wrong", "Observation/ait-mirels-example", []edit{set("interpretation.0.coding.0.code", "mirels-low")}, "business-rule", "Observation", "003 annex 4", ""},
	{"SINS band wrong", "Observation/ait-sins-example", []edit{set("interpretation.0.coding.0.code", "sins-stable")}, "business-rule", "Observation", "003 annex 4", ""},
	{"Mirels total wrong", "Observation/ait-mirels-example", []edit{set("valueInteger", 5)}, "business-rule", "Observation", "003 annex 4", ""},
	{"Mirels site 4", "Observation/ait-mirels-example", []edit{set("component.0.valueInteger", 4), set("valueInteger", 11)}, "business-rule", "Observation", "003 annex 4", ""},
	{"Mirels item missing", "Observation/ait-mirels-example", []edit{del("component.3"), set("valueInteger", 7)}, "required", "Observation.component", "", ""},
	// AITSINSScore
	{"SINS alignment 3", "Observation/ait-sins-example", []edit{set("component.3.valueInteger", 3), set("valueInteger", 12)}, "business-rule", "Observation", "003 annex 4", ""},
	{"SINS total 20", "Observation/ait-sins-example", []edit{set("valueInteger", 20)}, "business-rule", "Observation", "003 annex 4", ""},
	{"SINS item missing", "Observation/ait-sins-example", []edit{del("component.5"), set("valueInteger", 8)}, "required", "Observation.component", "", ""},
}

func TestInvalidVariants(t *testing.T) {
	v := testValidator(t)
	res := exampleResolver(v.Package())
	examples := map[string][]byte{}
	for _, r := range v.Package().Examples() {
		examples[r.Type+"/"+r.ID] = r.Body
	}
	perProfile := map[string]int{}
	for _, c := range invalidCases {
		t.Run(c.name, func(t *testing.T) {
			body, ok := examples[c.example]
			if !ok {
				t.Fatalf("no example %s", c.example)
			}
			oo := v.ValidateWith(context.Background(), res, mutate(t, body, c.edits...))
			sev := c.severity
			if sev == "" {
				sev = fhir.SeverityError
			}
			if !hasIssue(oo, sev, c.code, c.expr, c.seed) {
				t.Errorf("want %s %s at %s (seed %q); got:\n%s", sev, c.code, c.expr, c.seed, dump(oo))
			}
			if sev == fhir.SeverityError && !oo.HasErrors() {
				t.Errorf("outcome has no error")
			}
			perProfile[profileOf(t, body)]++
		})
	}
	for _, url := range profileURLs(v) {
		if perProfile[url] < 3 {
			t.Errorf("profile %s has %d invalid variants, want at least 3", url, perProfile[url])
		}
	}
}

func hasIssue(oo *fhir.OperationOutcome, sev, code, expr, seed string) bool {
	for _, is := range oo.Issue {
		if is.Severity != sev || is.Code != code || len(is.Expression) == 0 || is.Expression[0] != expr {
			continue
		}
		if seed == "" {
			return true
		}
		if strings.Contains(is.Diagnostics, seed) && is.Details != nil && len(is.Details.Coding) == 1 &&
			is.Details.Coding[0].Code == seed && strings.HasSuffix(is.Details.Coding[0].System, "/CodeSystem/ait-seed-section") {
			return true
		}
	}
	return false
}

func dump(oo *fhir.OperationOutcome) string {
	var sb strings.Builder
	for _, is := range oo.Issue {
		fmt.Fprintf(&sb, "  %s %s %v %s\n", is.Severity, is.Code, is.Expression, is.Diagnostics)
	}
	return sb.String()
}

func profileOf(t testing.TB, body []byte) string {
	claims, _ := field(field(decodeJSON(body), "meta"), "profile").([]any)
	if len(claims) != 1 {
		t.Fatalf("example claims %d profiles", len(claims))
	}
	return claims[0].(string)
}

// profileURLs lists the package's resource profiles (not its extensions).
func profileURLs(v *Validator) []string {
	var out []string
	for url, sd := range v.structures {
		if sd.typ != "Extension" {
			out = append(out, url)
		}
	}
	return out
}
