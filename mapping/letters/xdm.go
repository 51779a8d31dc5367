package letters

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// XDM paths of the zip (IHE ITI XDM: one submission set, one document).
const (
	XDMMetadata = "IHE_XDM/SUBSET01/METADATA.XML"
	XDMDocument = "IHE_XDM/SUBSET01/DOC0001.XML"
	XDMIndex    = "INDEX.HTM"
	XDMReadme   = "README.TXT"
	// XDMFileName is the attachment's name in the secure mail.
	XDMFileName = "IHE_XDM.ZIP"
)

// Classification schemes of an XDS document entry (IHE ITI TF-3 4.2.5) the
// French framework fills from its own value sets.
const (
	schemeHealthcareFacilityType = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
	schemePracticeSetting        = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
)

// XDS class codes of the French framework (JDV XdsClassCode, CI-SIS).
const (
	OIDClassCode = "1.2.250.1.213.1.1.4.1"
	ClassReport  = "10" // compte rendu
)

// metadata is what METADATA.XML says of the document and its submission set.
type metadata struct {
	CDA                                   CDA
	Size                                  int
	Hash, Created, Submitted, PatientID   string
	PatientName, BirthDate, Gender        string
	AuthorPerson, AuthorInstitution       string
	Recipient, SubmissionSetID, SourceOID string
	// AuthorSpecialty is the XDS authorSpecialty: code^display^code system, as the
	// French XDS metadata carries it (ANS, "Volet Partage de documents de santé").
	AuthorSpecialty string
}

var metadataTemplate = template.Must(template.New("metadata").Funcs(template.FuncMap{"x": xmlEscape}).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0">
  <rim:RegistryObjectList>
    <rim:ExtrinsicObject id="Document01" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
      <rim:Slot name="creationTime"><rim:ValueList><rim:Value>{{.Created}}</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="languageCode"><rim:ValueList><rim:Value>fr-FR</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="serviceStartTime"><rim:ValueList><rim:Value>{{.Created}}</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="sourcePatientId"><rim:ValueList><rim:Value>{{x .PatientID}}</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="sourcePatientInfo"><rim:ValueList>
        <rim:Value>PID-3|{{x .PatientID}}</rim:Value>
        <rim:Value>PID-5|{{x .PatientName}}</rim:Value>
        <rim:Value>PID-7|{{x .BirthDate}}</rim:Value>
        <rim:Value>PID-8|{{x .Gender}}</rim:Value>
      </rim:ValueList></rim:Slot>
      <rim:Slot name="size"><rim:ValueList><rim:Value>{{.Size}}</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="hash"><rim:ValueList><rim:Value>{{.Hash}}</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="URI"><rim:ValueList><rim:Value>DOC0001.XML</rim:Value></rim:ValueList></rim:Slot>
      <rim:Name><rim:LocalizedString xml:lang="fr-FR" value="{{x .CDA.Doc.Subject}}"/></rim:Name>
      <rim:Classification id="cl01" classificationScheme="urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d" classifiedObject="Document01" nodeRepresentation="">
        <rim:Slot name="authorPerson"><rim:ValueList><rim:Value>{{x .AuthorPerson}}</rim:Value></rim:ValueList></rim:Slot>
        <rim:Slot name="authorInstitution"><rim:ValueList><rim:Value>{{x .AuthorInstitution}}</rim:Value></rim:ValueList></rim:Slot>
        <rim:Slot name="authorSpecialty"><rim:ValueList><rim:Value>{{x .AuthorSpecialty}}</rim:Value></rim:ValueList></rim:Slot>
      </rim:Classification>
      <rim:Classification id="cl02" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" classifiedObject="Document01" nodeRepresentation="` + ClassReport + `">
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + OIDClassCode + `</rim:Value></rim:ValueList></rim:Slot>
        <rim:Name><rim:LocalizedString value="Compte rendu"/></rim:Name>
      </rim:Classification>
      <rim:Classification id="cl03" classificationScheme="urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f" classifiedObject="Document01" nodeRepresentation="N">
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + OIDConfidential + `</rim:Value></rim:ValueList></rim:Slot>
        <rim:Name><rim:LocalizedString value="Normal"/></rim:Name>
      </rim:Classification>
      <rim:Classification id="cl04" classificationScheme="urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d" classifiedObject="Document01" nodeRepresentation="` + FormatPDF + `">
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + OIDFormatCodes + `</rim:Value></rim:ValueList></rim:Slot>
        <rim:Name><rim:LocalizedString value="Document à corps non structuré en PDF"/></rim:Name>
      </rim:Classification>
      <rim:Classification id="cl05" classificationScheme="urn:uuid:f0306f51-975f-434e-a61c-c59651d33983" classifiedObject="Document01" nodeRepresentation="{{.CDA.Doc.Letter.DocType.Code}}">
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + OIDLOINC + `</rim:Value></rim:ValueList></rim:Slot>
        <rim:Name><rim:LocalizedString value="{{x .CDA.Doc.Letter.DocType.Display}}"/></rim:Name>
      </rim:Classification>
      <rim:Classification id="cl09" classificationScheme="` + schemeHealthcareFacilityType + `" classifiedObject="Document01" nodeRepresentation="{{x .CDA.FacilityType.Code}}">
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>{{.CDA.FacilityType.System}}</rim:Value></rim:ValueList></rim:Slot>
        <rim:Name><rim:LocalizedString value="{{x .CDA.FacilityType.Display}}"/></rim:Name>
      </rim:Classification>
      <rim:Classification id="cl10" classificationScheme="` + schemePracticeSetting + `" classifiedObject="Document01" nodeRepresentation="{{x .CDA.PracticeSetting.Code}}">
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>{{.CDA.PracticeSetting.System}}</rim:Value></rim:ValueList></rim:Slot>
        <rim:Name><rim:LocalizedString value="{{x .CDA.PracticeSetting.Display}}"/></rim:Name>
      </rim:Classification>
      <rim:ExternalIdentifier id="ei01" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" registryObject="Document01" value="{{x .PatientID}}">
        <rim:Name><rim:LocalizedString value="XDSDocumentEntry.patientId"/></rim:Name>
      </rim:ExternalIdentifier>
      <rim:ExternalIdentifier id="ei02" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" registryObject="Document01" value="{{.CDA.ID}}">
        <rim:Name><rim:LocalizedString value="XDSDocumentEntry.uniqueId"/></rim:Name>
      </rim:ExternalIdentifier>
    </rim:ExtrinsicObject>
    <rim:RegistryPackage id="SubmissionSet01">
      <rim:Slot name="submissionTime"><rim:ValueList><rim:Value>{{.Submitted}}</rim:Value></rim:ValueList></rim:Slot>
      <rim:Slot name="intendedRecipient"><rim:ValueList><rim:Value>{{x .Recipient}}</rim:Value></rim:ValueList></rim:Slot>
      <rim:Name><rim:LocalizedString xml:lang="fr-FR" value="{{x .CDA.Doc.Subject}}"/></rim:Name>
      <rim:Classification id="cl06" classificationScheme="urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d" classifiedObject="SubmissionSet01" nodeRepresentation="">
        <rim:Slot name="authorPerson"><rim:ValueList><rim:Value>{{x .AuthorPerson}}</rim:Value></rim:ValueList></rim:Slot>
        <rim:Slot name="authorSpecialty"><rim:ValueList><rim:Value>{{x .AuthorSpecialty}}</rim:Value></rim:ValueList></rim:Slot>
      </rim:Classification>
      <rim:Classification id="cl07" classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500" classifiedObject="SubmissionSet01" nodeRepresentation="{{.CDA.Doc.Letter.DocType.Code}}">
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>` + OIDLOINC + `</rim:Value></rim:ValueList></rim:Slot>
        <rim:Name><rim:LocalizedString value="{{x .CDA.Doc.Letter.DocType.Display}}"/></rim:Name>
      </rim:Classification>
      <rim:ExternalIdentifier id="ei03" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" registryObject="SubmissionSet01" value="{{.SubmissionSetID}}">
        <rim:Name><rim:LocalizedString value="XDSSubmissionSet.uniqueId"/></rim:Name>
      </rim:ExternalIdentifier>
      <rim:ExternalIdentifier id="ei04" identificationScheme="urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832" registryObject="SubmissionSet01" value="{{.SourceOID}}">
        <rim:Name><rim:LocalizedString value="XDSSubmissionSet.sourceId"/></rim:Name>
      </rim:ExternalIdentifier>
      <rim:ExternalIdentifier id="ei05" identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" registryObject="SubmissionSet01" value="{{x .PatientID}}">
        <rim:Name><rim:LocalizedString value="XDSSubmissionSet.patientId"/></rim:Name>
      </rim:ExternalIdentifier>
    </rim:RegistryPackage>
    <rim:Classification id="cl08" classifiedObject="SubmissionSet01" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
    <rim:Association id="as01" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document01">
      <rim:Slot name="SubmissionSetStatus"><rim:ValueList><rim:Value>Original</rim:Value></rim:ValueList></rim:Slot>
    </rim:Association>
  </rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>
`))

// xdsTime is an XDS DTM in UTC.
func xdsTime(t time.Time) string { return t.UTC().Format("20060102150405") }

// XDM packs the CDA of a letter in an IHE XDM zip, as French secure messaging
// expects the structured document beside the mail: METADATA.XML (ebRIM
// SubmitObjectsRequest) and the CDA under IHE_XDM/SUBSET01/, INDEX.HTM and
// README.TXT at the root. sentAt is the submission time.
func XDM(c CDA, sentAt time.Time) ([]byte, error) {
	cda, err := c.XML()
	if err != nil {
		return nil, err
	}
	d := c.Doc
	m := metadata{CDA: c, Size: len(cda), Hash: sha1Hex(cda), Created: xdsTime(d.Date), Submitted: xdsTime(sentAt),
		PatientName: strings.ToUpper(d.Patient.Family) + "^" + d.Patient.Given + "^^^^^L", BirthDate: strings.ReplaceAll(d.Patient.BirthDate, "-", ""),
		Gender: gender(d.Patient.Gender), SubmissionSetID: oidOf("submission:" + c.ID + ":" + strconv.FormatInt(sentAt.UnixNano(), 10)),
		SourceOID: oidOf("aitgw"), AuthorSpecialty: c.AuthorSpecialty.Code + "^" + c.AuthorSpecialty.Display + "^" + c.AuthorSpecialty.System}
	if d.Patient.INS != "" {
		m.PatientID = d.Patient.INS + "^^^&" + d.Patient.INSSystem + "&ISO^NH"
	}
	if d.Author.RPPS != "" {
		m.AuthorPerson = "8" + d.Author.RPPS + "^" + d.Author.Family + "^" + d.Author.Given + "^^^^^^&" + OIDRPPS + "&ISO^D^^^IDNPS"
	}
	if d.Author.Organization != "" {
		m.AuthorInstitution = d.Author.Organization
		if d.Author.FINESS != "" {
			m.AuthorInstitution += "^^^^^&" + OIDFINESS + "&ISO^IDNST^^^1" + d.Author.FINESS
		}
	}
	if d.Recipient.RPPS != "" {
		m.Recipient = "8" + d.Recipient.RPPS + "^" + d.Recipient.Family + "^" + d.Recipient.Given + "^^^^^^&" + OIDRPPS + "&ISO"
	}
	if d.Recipient.Email != "" {
		m.Recipient += "|^^Internet^" + d.Recipient.Email
	}
	var meta bytes.Buffer
	if err := metadataTemplate.Execute(&meta, m); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	files := []struct {
		name string
		data []byte
	}{
		{XDMIndex, []byte("<html><head><meta charset=\"utf-8\"><title>" + xmlEscape(d.Subject) + "</title></head><body>\n<h1>" +
			xmlEscape(d.Subject) + "</h1>\n<p>Patient : " + xmlEscape(d.PatientLine()) + "</p>\n<p><a href=\"IHE_XDM/SUBSET01/DOC0001.XML\">" +
			"Document CDA (" + xmlEscape(d.Letter.DocType.French) + ")</a></p>\n</body></html>\n")},
		{XDMReadme, []byte("Message de messagerie sécurisée de santé (IHE XDM).\r\nÉmetteur : AIT Gateway (aitgw), parcours d'analgésie intrathécale.\r\n" +
			"Contenu : IHE_XDM/SUBSET01/METADATA.XML (métadonnées XDS) et DOC0001.XML (document CDA R2 niveau 1, corps PDF).\r\n")},
		{XDMMetadata, meta.Bytes()},
		{XDMDocument, cda},
	}
	for _, f := range files {
		w, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Store, Modified: sentAt})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadXDM unpacks an XDM zip into its files by path (at most 16 files of 16 MiB:
// a secure mail's attachment is not trusted to be small).
func ReadXDM(b []byte) (map[string][]byte, error) {
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	if len(z.File) > 16 {
		return nil, fmt.Errorf("XDM zip with %d files", len(z.File))
	}
	out := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(r, 16<<20+1))
		r.Close()
		if err != nil {
			return nil, err
		}
		if len(data) > 16<<20 {
			return nil, fmt.Errorf("XDM file %s over 16 MiB", f.Name)
		}
		out[f.Name] = data
	}
	return out, nil
}
