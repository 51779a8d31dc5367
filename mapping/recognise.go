package mapping

import (
	"encoding/json"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// recognition says what a submitted resource is for the AIT dossier.
type recognition struct {
	Profile string
	// Element is the dossier element key (rules.DossierElements) or "".
	Element string
	// Lab is set for laboratory Observations.
	Lab *rules.Lab
}

// profileByElementKind is the profile of clinical dossier elements by their key.
var profileByElement = map[string]string{
	"performance-status": ProfilePerformance,
	"life-expectancy":    ProfileLifeExpectancy,
	"pain-assessment":    ProfilePain,
}

// profileCode is the coding a profile fixes on Observation.code (the guide's pattern):
// a resource recognised by an equivalent code (ait|who-performance-status, LOINC
// 38208-5 pain severity) gets it added beside the sender's codings (000 §V.2.a-b).
var profileCode = map[string]fhir.Coding{
	ProfilePerformance: {System: SystemLOINC, Code: "89247-1", Display: "ECOG performance status score"},
	ProfilePain:        {System: SystemLOINC, Code: "72514-3", Display: "Pain severity - 0-10 verbal numeric rating [Score] - Reported"},
}

// addProfileCode adds the coding the profile fixes to the resource's code unless it
// is there; it reports whether it added it.
func addProfileCode(r object, profile string) bool {
	c, ok := profileCode[profile]
	code := obj(r, "code")
	if !ok || code == nil || hasCoding(code, []string{c.System + "|" + c.Code}) {
		return false
	}
	return appendTo(code, "coding", map[string]any{"system": c.System, "code": c.Code, "display": c.Display})
}

// recognise tells what a resource is by its type and codes. ok is false when the
// resource is none of the things an AIT referral is made of.
func recognise(m object) (recognition, bool) {
	switch str(m, "resourceType") {
	case "Patient":
		return recognition{Profile: ProfilePatient}, true
	case "Practitioner":
		return recognition{Profile: ProfilePractitioner}, true
	case "PractitionerRole":
		return recognition{}, true // part of a referral; the guide has no profile for it
	case "Organization":
		// the guide profiles the implanting and refill centres only (ait-org-1)
		if hasCoding(firstOf(m, "type"), []string{CodeSystemAIT + "|implanting-centre", CodeSystemAIT + "|refill-centre"}) {
			return recognition{Profile: ProfileOrganization}, true
		}
	case "ServiceRequest":
		return recognition{Profile: ProfileReferral}, true
	case "Condition":
		return recognition{Profile: ProfileCondition}, true
	case "MedicationStatement":
		return recognition{Profile: ProfileMedicationReview, Element: "medication-review"}, true
	case "Observation":
		code := obj(m, "code")
		for _, c := range codings(code) {
			if c.System != SystemLOINC {
				continue
			}
			if lab, ok := rules.LabByLOINC(c.Code); ok {
				return recognition{Profile: ProfileLab, Element: lab.Key, Lab: &lab}, true
			}
		}
		if el, ok := elementByCode(code, rules.KindClinical, rules.KindDocument); ok {
			p := profileByElement[el]
			if p == "" {
				p = ProfileDocument
			}
			return recognition{Profile: p, Element: el}, true
		}
	case "DiagnosticReport":
		if el, ok := elementByCode(obj(m, "code"), rules.KindImaging); ok {
			return recognition{Profile: ProfileImagingReport, Element: el}, true
		}
		if el, ok := imagingElement(m); ok {
			return recognition{Element: el}, true // the guide's profile pins its own codes: not claimed
		}
	case "ImagingStudy":
		for _, pc := range objs(m, "procedureCode") {
			if el, ok := elementByCode(pc, rules.KindImaging); ok {
				return recognition{Profile: ProfileImagingStudy, Element: el}, true
			}
		}
		if el, ok := imagingElement(m); ok {
			return recognition{Element: el}, true
		}
	case "DocumentReference":
		if el, ok := elementByCode(obj(m, "type"), rules.KindDocument, rules.KindClinical); ok {
			return recognition{Profile: ProfileDocument, Element: el}, true
		}
	}
	return recognition{}, false
}

// elementByCode finds the dossier element of one of kinds whose codes cc holds.
func elementByCode(cc object, kinds ...rules.ElementKind) (string, bool) {
	for _, el := range rules.DossierElements {
		for _, k := range kinds {
			if el.Kind == k && hasCoding(cc, resolveCodes(el.Codes)) {
				return el.Key, true
			}
		}
	}
	return "", false
}

// firstOf returns the first object of an array element (a CodeableConcept list).
func firstOf(m object, key string) object {
	if l := objs(m, key); len(l) > 0 {
		return l[0]
	}
	return nil
}

// imagingElement recognises dossier imaging sent without the guide's codes, with the
// imaging reader (ReadImaging: modality, body site, words of its title), as the
// cimentoplasty prerequisites read it: a brain CT or MRI, a CT of thorax, abdomen and
// pelvis (000 §V.2.d).
func imagingElement(m object) (string, bool) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", false
	}
	im, ok := ReadImaging(b)
	if !ok {
		return "", false
	}
	for _, r := range rules.ImagingRequirements {
		if r.Element != "" && im.Meets(r) {
			return r.Element, true
		}
	}
	return "", false
}
