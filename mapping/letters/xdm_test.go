package letters

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/mapping/letters/lettertest"
)

// cdaHeader is what the test reads back of a CDA document.
type cdaHeader struct {
	Code struct {
		Code       string `xml:"code,attr"`
		CodeSystem string `xml:"codeSystem,attr"`
	} `xml:"code"`
	Title   string `xml:"title"`
	Patient struct {
		ID struct {
			Root      string `xml:"root,attr"`
			Extension string `xml:"extension,attr"`
		} `xml:"id"`
		Family string `xml:"patient>name>family"`
		Birth  struct {
			Value string `xml:"value,attr"`
		} `xml:"patient>birthTime"`
	} `xml:"recordTarget>patientRole"`
	Author struct {
		Root      string `xml:"root,attr"`
		Extension string `xml:"extension,attr"`
	} `xml:"author>assignedAuthor>id"`
	Custodian struct {
		Root      string `xml:"root,attr"`
		Extension string `xml:"extension,attr"`
	} `xml:"custodian>assignedCustodian>representedCustodianOrganization>id"`
	ServiceEvent string `xml:"documentationOf>serviceEvent>effectiveTime>low"`
	Body         struct {
		MediaType      string `xml:"mediaType,attr"`
		Representation string `xml:"representation,attr"`
		Text           string `xml:",chardata"`
	} `xml:"component>nonXMLBody>text"`
}

// CheckXDM checks an XDM zip of the sample's discharge letter: its structure, the
// metadata and the CDA header, and that the CDA body is the PDF.
func checkXDM(t *testing.T, zipped, pdf []byte) {
	t.Helper()
	files, err := ReadXDM(zipped)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{XDMIndex, XDMReadme, XDMMetadata, XDMDocument} {
		if len(files[name]) == 0 {
			t.Errorf("XDM lacks %s (has %d files)", name, len(files))
		}
	}
	var meta struct {
		XMLName xml.Name
		Objects []struct {
			ID       string `xml:"id,attr"`
			MimeType string `xml:"mimeType,attr"`
			Slots    []struct {
				Name   string   `xml:"name,attr"`
				Values []string `xml:"ValueList>Value"`
			} `xml:"Slot"`
		} `xml:"RegistryObjectList>ExtrinsicObject"`
		Packages []struct {
			ID string `xml:"id,attr"`
		} `xml:"RegistryObjectList>RegistryPackage"`
	}
	if err := xml.Unmarshal(files[XDMMetadata], &meta); err != nil {
		t.Fatalf("METADATA.XML: %v", err)
	}
	if meta.XMLName.Local != "SubmitObjectsRequest" || len(meta.Objects) != 1 || len(meta.Packages) != 1 {
		t.Fatalf("METADATA.XML: %s, %d documents, %d submission sets", meta.XMLName.Local, len(meta.Objects), len(meta.Packages))
	}
	slots := map[string]string{}
	for _, s := range meta.Objects[0].Slots {
		slots[s.Name] = strings.Join(s.Values, "|")
	}
	if slots["URI"] != "DOC0001.XML" || slots["hash"] != sha1Hex(files[XDMDocument]) ||
		!strings.HasPrefix(slots["sourcePatientId"], "255081416802538^^^&"+OIDNIR+"&ISO") {
		t.Errorf("metadata slots %v", slots)
	}
	var h cdaHeader
	if err := xml.Unmarshal(files[XDMDocument], &h); err != nil {
		t.Fatalf("CDA: %v", err)
	}
	if h.Code.Code != "11490-0" || h.Code.CodeSystem != OIDLOINC || h.Patient.ID.Root != OIDNIR || h.Patient.ID.Extension != "255081416802538" ||
		h.Patient.Family != "EXEMPLE" || h.Patient.Birth.Value != "19550814" || h.Author.Root != OIDRPPS || h.Author.Extension != "810000000003" ||
		h.Custodian.Root != OIDFINESS || h.Custodian.Extension != "1590780193" || h.Body.MediaType != "application/pdf" || h.Body.Representation != "B64" {
		t.Errorf("CDA header %+v", h)
	}
	body, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h.Body.Text))
	if err != nil || !bytes.Equal(body, pdf) {
		t.Errorf("the CDA body is not the PDF: %v", err)
	}
}

// TestXDMOfTheDischargeLetter packs the sample's discharge letter in an XDM zip and
// reads it back.
func TestXDMOfTheDischargeLetter(t *testing.T) {
	r, err := lettertest.New()
	if err != nil {
		t.Fatal(err)
	}
	d := compose(t, r, sampleLetters[6])
	if d.Letter.Milestone != "discharge-letter" {
		t.Fatalf("sample 6 is %s", d.Letter.Milestone)
	}
	pdf, err := d.PDF()
	if err != nil {
		t.Fatal(err)
	}
	z, err := XDM(NewCDA(d, pdf, "ntf-test"), time.Date(2026, 4, 9, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	checkXDM(t, z, pdf)
}
