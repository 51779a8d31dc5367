package letters

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// cdaChild is one element of a CDA R2 type's content model: its name, its type (""
// for an element this check does not descend into), whether it is required and
// whether it may repeat.
type cdaChild struct {
	name, typ          string
	required, repeated bool
}

// cdaModel is the content model of the header types the letters write, in schema
// order, transcribed from the HL7 CDA R2 schema (POCD_MT000040.xsd, the
// InfrastructureRoot elements realmCode, typeId and templateId left out where the
// letters do not write them). No XSD validator is available offline to the tests:
// this checks what the schema would reject in the letters' CDA — an element out of
// sequence, an element the type does not have, a required one missing, a single one
// repeated.
var cdaModel = map[string][]cdaChild{
	"ClinicalDocument": {{"realmCode", "", false, true}, {"typeId", "", true, false}, {"templateId", "", false, true}, {"id", "", true, false},
		{"code", "", true, false}, {"title", "", false, false}, {"effectiveTime", "", true, false}, {"confidentialityCode", "", true, false},
		{"languageCode", "", false, false}, {"setId", "", false, false}, {"versionNumber", "", false, false}, {"copyTime", "", false, false},
		{"recordTarget", "RecordTarget", true, true}, {"author", "Author", true, true}, {"dataEnterer", "", false, false}, {"informant", "", false, true},
		{"custodian", "Custodian", true, false}, {"informationRecipient", "InformationRecipient", false, true},
		{"legalAuthenticator", "LegalAuthenticator", false, false}, {"authenticator", "", false, true}, {"participant", "", false, true},
		{"inFulfillmentOf", "", false, true}, {"documentationOf", "DocumentationOf", false, true}, {"relatedDocument", "", false, true},
		{"authorization", "", false, true}, {"componentOf", "ComponentOf", false, false}, {"component", "Component2", true, false}},
	"RecordTarget": {{"patientRole", "PatientRole", true, false}},
	"PatientRole": {{"id", "", true, true}, {"addr", "", false, true}, {"telecom", "", false, true}, {"patient", "Patient", false, false},
		{"providerOrganization", "Organization", false, false}},
	"Patient": {{"id", "", false, false}, {"name", "", false, true}, {"administrativeGenderCode", "", false, false}, {"birthTime", "", false, false},
		{"maritalStatusCode", "", false, false}, {"religiousAffiliationCode", "", false, false}, {"raceCode", "", false, false},
		{"ethnicGroupCode", "", false, false}, {"guardian", "", false, true}, {"birthplace", "", false, false}, {"languageCommunication", "", false, true}},
	"Author": {{"functionCode", "", false, false}, {"time", "", true, false}, {"assignedAuthor", "AssignedAuthor", true, false}},
	"AssignedAuthor": {{"id", "", true, true}, {"code", "", false, false}, {"addr", "", false, true}, {"telecom", "", false, true},
		{"assignedPerson", "Person", false, false}, {"assignedAuthoringDevice", "", false, false}, {"representedOrganization", "Organization", false, false}},
	"Person": {{"name", "", false, true}},
	"Organization": {{"id", "", false, true}, {"name", "", false, true}, {"telecom", "", false, true}, {"addr", "", false, true},
		{"standardIndustryClassCode", "", false, false}, {"asOrganizationPartOf", "", false, false}},
	"Custodian":             {{"assignedCustodian", "AssignedCustodian", true, false}},
	"AssignedCustodian":     {{"representedCustodianOrganization", "CustodianOrganization", true, false}},
	"CustodianOrganization": {{"id", "", true, true}, {"name", "", false, false}, {"telecom", "", false, false}, {"addr", "", false, false}},
	"InformationRecipient":  {{"intendedRecipient", "IntendedRecipient", true, false}},
	"IntendedRecipient": {{"id", "", false, true}, {"addr", "", false, true}, {"telecom", "", false, true},
		{"informationRecipient", "Person", false, false}, {"receivedOrganization", "Organization", false, false}},
	"LegalAuthenticator": {{"time", "", true, false}, {"signatureCode", "", true, false}, {"assignedEntity", "AssignedEntity", true, false}},
	"AssignedEntity": {{"id", "", true, true}, {"code", "", false, false}, {"addr", "", false, true}, {"telecom", "", false, true},
		{"assignedPerson", "Person", false, false}, {"representedOrganization", "Organization", false, false}},
	"DocumentationOf": {{"serviceEvent", "ServiceEvent", true, false}},
	"ServiceEvent": {{"id", "", false, true}, {"code", "", false, false}, {"effectiveTime", "", false, false},
		{"performer", "Performer1", false, true}},
	"Performer1":  {{"functionCode", "", false, false}, {"time", "", false, false}, {"assignedEntity", "AssignedEntity", true, false}},
	"ComponentOf": {{"encompassingEncounter", "EncompassingEncounter", true, false}},
	"EncompassingEncounter": {{"id", "", false, true}, {"code", "", false, false}, {"effectiveTime", "", true, false},
		{"dischargeDispositionCode", "", false, false}, {"responsibleParty", "", false, false}, {"encounterParticipant", "", false, true},
		{"location", "Location", false, false}},
	"Location":           {{"healthCareFacility", "HealthCareFacility", true, false}},
	"HealthCareFacility": {{"id", "", false, true}, {"code", "", false, false}, {"location", "", false, false}, {"serviceProviderOrganization", "Organization", false, false}},
	"Component2":         {{"nonXMLBody", "NonXMLBody", false, false}, {"structuredBody", "", false, false}},
	"NonXMLBody":         {{"text", "", true, false}, {"confidentialityCode", "", false, false}, {"languageCode", "", false, false}},
}

// cdaNode is an element of the document, with its children.
type cdaNode struct {
	XMLName  xml.Name
	Children []cdaNode `xml:",any"`
}

// checkCDAOrder checks the CDA document against cdaModel from ClinicalDocument down.
func checkCDAOrder(t *testing.T, doc []byte) {
	t.Helper()
	var root cdaNode
	if err := xml.NewDecoder(bytes.NewReader(doc)).Decode(&root); err != nil {
		t.Fatalf("CDA: %v", err)
	}
	if root.XMLName.Local != "ClinicalDocument" || root.XMLName.Space != "urn:hl7-org:v3" {
		t.Fatalf("CDA root %v", root.XMLName)
	}
	checkCDAType(t, "ClinicalDocument", "ClinicalDocument", root)
}

func checkCDAType(t *testing.T, path, typ string, n cdaNode) {
	t.Helper()
	model := cdaModel[typ]
	pos, seen := 0, map[string]int{}
	for _, c := range n.Children {
		at := -1
		for i := pos; i < len(model); i++ {
			if model[i].name == c.XMLName.Local {
				at = i
				break
			}
		}
		if at < 0 {
			t.Errorf("%s/%s: not in the content model of %s, or out of its sequence", path, c.XMLName.Local, typ)
			continue
		}
		pos = at
		seen[c.XMLName.Local]++
		if seen[c.XMLName.Local] > 1 && !model[at].repeated {
			t.Errorf("%s/%s: repeated, the schema allows one", path, c.XMLName.Local)
		}
		if model[at].typ != "" {
			checkCDAType(t, path+"/"+c.XMLName.Local, model[at].typ, c)
		}
	}
	for _, m := range model {
		if m.required && seen[m.name] == 0 {
			t.Errorf("%s: required %s missing", path, m.name)
		}
	}
}
