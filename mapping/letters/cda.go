package letters

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"math/big"
	"strings"
	"text/template"
	"time"

	"github.com/aitgw/aitgw/mapping/rules"
)

// OIDs of the CDA header, as the ANS's interoperability framework (CI-SIS) gives them.
const (
	OIDLOINC        = "2.16.840.1.113883.6.1"
	OIDRPPS         = "1.2.250.1.71.4.2.1" // identifiers of health professionals: "8" + RPPS
	OIDFINESS       = "1.2.250.1.71.4.2.2" // identifiers of structures: "1" + FINESS
	OIDConfidential = "2.16.840.1.113883.5.25"
	OIDGender       = "2.16.840.1.113883.5.1"
	OIDCISISModel   = "1.2.250.1.213.1.1.1.1" // conformity to the CI-SIS CDA model
	OIDHL7France    = "2.16.840.1.113883.2.8.2.1"
	OIDXDSSD        = "1.3.6.1.4.1.19376.1.2.20" // IHE XDS-SD: a level 1 document, unstructured body
	// FormatPDF is the IHE format code of a CDA level 1 carrying a PDF (XDS-SD).
	FormatPDF       = "urn:ihe:iti:xds-sd:pdf:2008"
	OIDFormatCodes  = "1.3.6.1.4.1.19376.1.2.3"
	OIDTypeIDRoot   = "2.16.840.1.113883.1.3"
	typeIDExtension = "POCD_HD000040"
)

// CDA is the letter as an HL7 CDA R2 level 1 document, as French secure messaging
// carries it (ANS CI-SIS, "Volet Structuration minimale des documents de santé"): a
// structured header — the patient with the INS, the author with the RPPS and his
// specialty, the custodian with the FINESS, the recipient, the legal authenticator,
// documentationOf with the practice setting, componentOf with the facility type —
// and a nonXMLBody holding the PDF in base64. The header follows the ANS example of
// an unstructured CDA R2 level 1 document (TestContenuCDA, DOC_NON_STRUCTURE_CDA-R2-N1):
// healthCareFacility code from TRE_R02-SecteurActivite, standardIndustryClassCode
// from TRE_A01-CadreExercice, assignedAuthor code from JDV_J01.
type CDA struct {
	// ID is the document's unique id (an OID), SetID its set.
	ID, SetID string
	Doc       Document
	PDF       []byte
	// FacilityType and PracticeSetting are the site's (rules.Site, `serve --rules`):
	// the healthCareFacility code of the encompassing encounter and the
	// standardIndustryClassCode of the performer's organisation, and the XDM
	// metadata's healthcareFacilityTypeCode and practiceSettingCode.
	FacilityType, PracticeSetting rules.XDSCode
	// AuthorSpecialty is the author's code (assignedAuthor/code, XDS
	// authorSpecialty): his PractitionerRole's specialty, else the profession alone
	// (rules.AuthorSpecialtyFallback).
	AuthorSpecialty rules.XDSCode
}

// NewCDA builds the CDA of a letter; key is a stable string (the Communication id)
// the document's ids are derived from. The site's codes are those in effect.
func NewCDA(doc Document, pdf []byte, key string) CDA {
	site := rules.InEffect()
	spec := doc.Author.Specialty
	if spec.Code == "" {
		spec = rules.AuthorSpecialtyFallback
	}
	return CDA{ID: oidOf(key), SetID: oidOf("set:" + key), Doc: doc, PDF: pdf,
		FacilityType: site.HealthcareFacilityType(), PracticeSetting: site.PracticeSetting(), AuthorSpecialty: spec}
}

// specialty is the first coding of the concepts (PractitionerRole.specialty,
// Practitioner.qualification.code) that names a physician's specialty.
func specialty(ccs []object) rules.XDSCode {
	for _, cc := range ccs {
		for _, c := range codings(cc) {
			if x, ok := rules.AuthorSpecialtyOf(str(c, "system"), str(c, "code"), str(c, "display")); ok {
				return x
			}
		}
	}
	return rules.XDSCode{}
}

// oidOf derives an OID under the gateway's root from a key: a UUID-like number.
func oidOf(key string) string {
	h := sha256.Sum256([]byte(key))
	return "2.25." + new(big.Int).SetBytes(h[:16]).String()
}

// hl7Time renders a time as an HL7 TS with the Paris offset.
func hl7Time(t time.Time) string { return t.In(Paris).Format("20060102150405-0700") }

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// gender maps FHIR administrative gender to the HL7 v3 code.
func gender(g string) string {
	switch g {
	case "male":
		return "M"
	case "female":
		return "F"
	}
	return "U"
}

var cdaTemplate = template.Must(template.New("cda").Funcs(template.FuncMap{"x": xmlEscape, "ts": hl7Time,
	"gender": gender, "upper": strings.ToUpper, "b64": func(b []byte) string { return base64.StdEncoding.EncodeToString(b) },
	"day": func(s string) string { return strings.ReplaceAll(s, "-", "") }}).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="` + OIDTypeIDRoot + `" extension="` + typeIDExtension + `"/>
  <templateId root="` + OIDHL7France + `" assigningAuthorityName="HL7 France"/>
  <templateId root="` + OIDCISISModel + `" assigningAuthorityName="CI-SIS"/>
  <templateId root="` + OIDXDSSD + `" assigningAuthorityName="IHE XDS-SD"/>
  <id root="{{.ID}}"/>
  <code code="{{.Doc.Letter.DocType.Code}}" codeSystem="` + OIDLOINC + `" codeSystemName="LOINC" displayName="{{x .Doc.Letter.DocType.Display}}"/>
  <title>{{x .Doc.Subject}}</title>
  <effectiveTime value="{{ts .Doc.Date}}"/>
  <confidentialityCode code="N" codeSystem="` + OIDConfidential + `" displayName="Normal"/>
  <languageCode code="fr-FR"/>
  <setId root="{{.SetID}}"/>
  <versionNumber value="1"/>
  <recordTarget>
    <patientRole>
      {{- if .Doc.Patient.INS}}
      <id root="{{.Doc.Patient.INSSystem}}" extension="{{x .Doc.Patient.INS}}"/>
      {{- else}}
      <id nullFlavor="UNK"/>
      {{- end}}
      <patient>
        <name>
          <given>{{x .Doc.Patient.Given}}</given>
          <family qualifier="BR">{{x (upper .Doc.Patient.Family)}}</family>
        </name>
        <administrativeGenderCode code="{{gender .Doc.Patient.Gender}}" codeSystem="` + OIDGender + `"/>
        {{- if .Doc.Patient.BirthDate}}
        <birthTime value="{{day .Doc.Patient.BirthDate}}"/>
        {{- else}}
        <birthTime nullFlavor="UNK"/>
        {{- end}}
      </patient>
    </patientRole>
  </recordTarget>
  <author>
    <time value="{{ts .Doc.Date}}"/>
    <assignedAuthor>
      {{- if .Doc.Author.RPPS}}
      <id root="` + OIDRPPS + `" extension="8{{x .Doc.Author.RPPS}}"/>
      {{- else}}
      <id nullFlavor="UNK"/>
      {{- end}}
      <code code="{{x .AuthorSpecialty.Code}}" displayName="{{x .AuthorSpecialty.Display}}" codeSystem="{{.AuthorSpecialty.System}}"/>
      <assignedPerson><name><prefix>Dr</prefix><given>{{x .Doc.Author.Given}}</given><family>{{x .Doc.Author.Family}}</family></name></assignedPerson>
      {{- if .Doc.Author.Organization}}
      <representedOrganization>
        {{- if .Doc.Author.FINESS}}<id root="` + OIDFINESS + `" extension="1{{x .Doc.Author.FINESS}}"/>{{end}}
        <name>{{x .Doc.Author.Organization}}</name>
      </representedOrganization>
      {{- end}}
    </assignedAuthor>
  </author>
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization>
        {{- if .Doc.Custodian.FINESS}}
        <id root="` + OIDFINESS + `" extension="1{{x .Doc.Custodian.FINESS}}"/>
        {{- else}}
        <id nullFlavor="UNK"/>
        {{- end}}
        <name>{{x .Doc.Custodian.Name}}</name>
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <informationRecipient>
    <intendedRecipient>
      {{- if .Doc.Recipient.RPPS}}
      <id root="` + OIDRPPS + `" extension="8{{x .Doc.Recipient.RPPS}}"/>
      {{- end}}
      {{- if .Doc.Recipient.Email}}
      <telecom value="mailto:{{x .Doc.Recipient.Email}}"/>
      {{- end}}
      <informationRecipient><name><given>{{x .Doc.Recipient.Given}}</given><family>{{x .Doc.Recipient.Family}}</family></name></informationRecipient>
    </intendedRecipient>
  </informationRecipient>
  <legalAuthenticator>
    <time value="{{ts .Doc.Date}}"/>
    <signatureCode code="S"/>
    <assignedEntity>
      {{- if .Doc.Author.RPPS}}
      <id root="` + OIDRPPS + `" extension="8{{x .Doc.Author.RPPS}}"/>
      {{- else}}
      <id nullFlavor="UNK"/>
      {{- end}}
      <assignedPerson><name><prefix>Dr</prefix><given>{{x .Doc.Author.Given}}</given><family>{{x .Doc.Author.Family}}</family></name></assignedPerson>
    </assignedEntity>
  </legalAuthenticator>
  <documentationOf>
    <serviceEvent>
      <effectiveTime><low value="{{ts .Doc.Date}}"/></effectiveTime>
      <performer typeCode="PRF">
        <assignedEntity>
          {{- if .Doc.Author.RPPS}}
          <id root="` + OIDRPPS + `" extension="8{{x .Doc.Author.RPPS}}"/>
          {{- else}}
          <id nullFlavor="UNK"/>
          {{- end}}
          <assignedPerson><name><prefix>Dr</prefix><given>{{x .Doc.Author.Given}}</given><family>{{x .Doc.Author.Family}}</family></name></assignedPerson>
          <representedOrganization>
            {{- if .Doc.Author.FINESS}}
            <id root="` + OIDFINESS + `" extension="1{{x .Doc.Author.FINESS}}"/>
            {{- end}}
            {{- if .Doc.Author.Organization}}
            <name>{{x .Doc.Author.Organization}}</name>
            {{- end}}
            <standardIndustryClassCode code="{{x .PracticeSetting.Code}}" displayName="{{x .PracticeSetting.Display}}" codeSystem="{{.PracticeSetting.System}}" codeSystemName="practiceSettingCode"/>
          </representedOrganization>
        </assignedEntity>
      </performer>
    </serviceEvent>
  </documentationOf>
  <componentOf>
    <encompassingEncounter>
      <effectiveTime value="{{ts .Doc.Date}}"/>
      <location>
        <healthCareFacility>
          {{- if .Doc.Custodian.FINESS}}
          <id root="` + OIDFINESS + `" extension="1{{x .Doc.Custodian.FINESS}}"/>
          {{- end}}
          <code code="{{x .FacilityType.Code}}" displayName="{{x .FacilityType.Display}}" codeSystem="{{.FacilityType.System}}"/>
        </healthCareFacility>
      </location>
    </encompassingEncounter>
  </componentOf>
  <component>
    <nonXMLBody>
      <text mediaType="application/pdf" representation="B64">{{b64 .PDF}}</text>
    </nonXMLBody>
  </component>
</ClinicalDocument>
`))

// XML renders the CDA document.
func (c CDA) XML() ([]byte, error) {
	var b bytes.Buffer
	if err := cdaTemplate.Execute(&b, c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sha1Hex is the XDS hash of a document.
func sha1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}
