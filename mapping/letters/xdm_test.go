package letters

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/mapping/letters/lettertest"
	"github.com/aitgw/aitgw/mapping/rules"
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
	AuthorCode code `xml:"author>assignedAuthor>code"`
	Facility   struct {
		ID struct {
			Root      string `xml:"root,attr"`
			Extension string `xml:"extension,attr"`
		} `xml:"id"`
		Code code `xml:"code"`
	} `xml:"componentOf>encompassingEncounter>location>healthCareFacility"`
	PracticeSetting code   `xml:"documentationOf>serviceEvent>performer>assignedEntity>representedOrganization>standardIndustryClassCode"`
	ServiceEvent    string `xml:"documentationOf>serviceEvent>effectiveTime>low"`
	Body            struct {
		MediaType      string `xml:"mediaType,attr"`
		Representation string `xml:"representation,attr"`
		Text           string `xml:",chardata"`
	} `xml:"component>nonXMLBody>text"`
}

// code is a CDA coded element as the test reads it back.
type code struct {
	Code        string `xml:"code,attr"`
	DisplayName string `xml:"displayName,attr"`
	CodeSystem  string `xml:"codeSystem,attr"`
}

// xdsCodes are the codes an XDM zip must carry: the site's facility type and practice
// setting, the author's specialty.
type xdsCodes struct{ facility, practice, specialty rules.XDSCode }

// CheckXDM checks an XDM zip of the sample's discharge letter: its structure, the
// metadata and the CDA header, and that the CDA body is the PDF.
func checkXDM(t *testing.T, zipped, pdf []byte, want xdsCodes) {
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
			Classifications []struct {
				Scheme string `xml:"classificationScheme,attr"`
				Node   string `xml:"nodeRepresentation,attr"`
				Slots  []struct {
					Name   string   `xml:"name,attr"`
					Values []string `xml:"ValueList>Value"`
				} `xml:"Slot"`
				Name struct {
					Value string `xml:"value,attr"`
				} `xml:"Name>LocalizedString"`
			} `xml:"Classification"`
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
	// the classifications of the document entry, by scheme: node, coding scheme and
	// name; the author's slots
	classes := map[string][3]string{}
	author := map[string]string{}
	for _, c := range meta.Objects[0].Classifications {
		slots := map[string]string{}
		for _, sl := range c.Slots {
			slots[sl.Name] = strings.Join(sl.Values, "|")
		}
		if c.Scheme == "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d" {
			author = slots
			continue
		}
		classes[c.Scheme] = [3]string{c.Node, slots["codingScheme"], c.Name.Value}
	}
	for scheme, w := range map[string]rules.XDSCode{"urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1": want.facility,
		"urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead": want.practice} {
		if got := classes[scheme]; got != [3]string{w.Code, w.System, w.Display} {
			t.Errorf("classification %s: %q, want %s", scheme, got, w)
		}
	}
	if got, w := author["authorSpecialty"], want.specialty.Code+"^"+want.specialty.Display+"^"+want.specialty.System; got != w {
		t.Errorf("authorSpecialty %q, want %q", got, w)
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
	for what, c := range map[string][2]any{"assignedAuthor/code": {h.AuthorCode, want.specialty},
		"healthCareFacility/code": {h.Facility.Code, want.facility}, "standardIndustryClassCode": {h.PracticeSetting, want.practice}} {
		got, w := c[0].(code), c[1].(rules.XDSCode)
		if got.Code != w.Code || got.DisplayName != w.Display || got.CodeSystem != w.System {
			t.Errorf("CDA %s %+v, want %+v", what, got, w)
		}
	}
	if h.Facility.ID.Root != OIDFINESS || h.Facility.ID.Extension != "1590780193" {
		t.Errorf("CDA healthCareFacility id %+v, want the implanting centre's FINESS", h.Facility.ID)
	}
	checkCDAOrder(t, files[XDMDocument])
	body, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h.Body.Text))
	if err != nil || !bytes.Equal(body, pdf) {
		t.Errorf("the CDA body is not the PDF: %v", err)
	}
}

// TestXDMOfTheDischargeLetter packs the sample's discharge letter in an XDM zip and
// reads it back: with the defaults of the site and the algologist's specialty from
// his PractitionerRole (TRE_R38 SM02), then with a site's own facility type and
// practice setting and an author without a specialty (the profession alone).
func TestXDMOfTheDischargeLetter(t *testing.T) {
	r, err := lettertest.New()
	if err != nil {
		t.Fatal(err)
	}
	role, _ := r.Read("PractitionerRole", "ait-role-algologist")
	var m map[string]any
	_ = json.Unmarshal(role, &m)
	m["specialty"] = []any{map[string]any{"coding": []any{map[string]any{"system": rules.URLSpecialiteOrdinale, "code": "SM02"}}}}
	withSpecialty, _ := json.Marshal(m)
	site, err := rules.ParseSite("site.yaml", []byte("healthcare-facility-type: SA36\npractice-setting: PALLIATIF\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		role []byte
		site *rules.Site
		want xdsCodes
	}{
		{"defaults, specialty", withSpecialty, nil, xdsCodes{
			rules.XDSCode{Code: "SA01", Display: "Etablissement public de santé", System: "1.2.250.1.71.4.2.4"},
			rules.XDSCode{Code: "ETABLISSEMENT", Display: "Etablissement de santé", System: "1.2.250.1.213.1.1.4.9"},
			rules.XDSCode{Code: "G15_10/SM02", Display: "Médecin - Anesthésie-réanimation (SM)", System: "1.2.250.1.213.1.1.4.5"}}},
		{"site codes, no specialty", role, site, xdsCodes{
			rules.XDSCode{Code: "SA36", Display: "Centre anti-cancer", System: "1.2.250.1.71.4.2.4"},
			rules.XDSCode{Code: "PALLIATIF", Display: "Soins palliatifs", System: "1.2.250.1.213.1.1.4.9"},
			rules.XDSCode{Code: "G15_10", Display: "Médecin", System: "1.2.250.1.213.1.1.4.5"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r.Put(c.role)
			defer rules.Use(rules.Use(c.site))
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
			checkXDM(t, z, pdf, c.want)
		})
	}
}

// TestAuthorSpecialtyFromQualification: a PractitionerRole without a specialty takes
// the one of its practitioner's qualification (TRE_R38), rendered from its display
// when the table does not hold it; the role's own specialty wins.
func TestAuthorSpecialtyFromQualification(t *testing.T) {
	r, err := lettertest.New()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := r.Read("Practitioner", "ait-algologist-example")
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["qualification"] = []any{map[string]any{"code": map[string]any{"coding": []any{
		map[string]any{"system": "urn:oid:" + rules.OIDSpecialiteOrdinale, "code": "SM21", "display": "Hématologie"}}}}}
	b, _ := json.Marshal(m)
	r.Put(b)
	_, author, _ := Parties(r, "", lettertest.Algologist, "")
	if got := author.Specialty; got.Code != "G15_10/SM21" || got.Display != "Médecin - Hématologie (SM)" || got.System != "1.2.250.1.213.1.1.4.5" {
		t.Errorf("specialty from the qualification: %+v", got)
	}
	role, _ := r.Read("PractitionerRole", "ait-role-algologist")
	_ = json.Unmarshal(role, &m)
	m["specialty"] = []any{map[string]any{"coding": []any{map[string]any{"system": rules.URLSpecialiteOrdinale, "code": "SM02"}}}}
	b, _ = json.Marshal(m)
	r.Put(b)
	if _, author, _ = Parties(r, "", lettertest.Algologist, ""); author.Specialty.Code != "G15_10/SM02" {
		t.Errorf("the role's specialty does not win: %+v", author.Specialty)
	}
}
