package rules

import (
	"fmt"
	"strings"
)

// XDSCode is a code of a value set of the French interoperability framework (ANS,
// CI-SIS, "Volet Partage de documents de santé"): what a letter's CDA header and its
// XDM metadata carry, with the code system it belongs to.
type XDSCode struct{ Code, Display, System string }

// OIDs of the code systems of the XDS metadata of a letter (ANS terminologies).
const (
	// OIDSecteurActivite is TRE_R02-SecteurActivite: the healthcare facility types.
	OIDSecteurActivite = "1.2.250.1.71.4.2.4"
	// OIDCadreExercice is TRE_A01-CadreExercice: the practice settings.
	OIDCadreExercice = "1.2.250.1.213.1.1.4.9"
	// OIDAuthorSpecialty is the code system of JDV_J01-XdsAuthorSpecialty-CISIS for a
	// professional: TRE_G15 profession and TRE_R38 specialty joined ("G15_10/SM02").
	OIDAuthorSpecialty = "1.2.250.1.213.1.1.4.5"
	// OIDSpecialiteOrdinale is TRE_R38-SpecialiteOrdinale, the specialty a
	// PractitionerRole carries ("SM02"); URLSpecialiteOrdinale its FHIR system.
	OIDSpecialiteOrdinale = "1.2.250.1.213.2.28"
	URLSpecialiteOrdinale = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)

// Names of the site's XDS settings (`serve --rules FILE`).
const (
	SettingFacilityType    = "healthcare-facility-type"
	SettingPracticeSetting = "practice-setting"
)

// HealthcareFacilityTypes is JDV_J02-XdsHealthcareFacilityTypeCode-CISIS (value set
// 1.2.250.1.213.1.1.5.466, codes of TRE_R02-SecteurActivite) less the patient's own
// expression: the type of the facility the letter comes from, in the CDA header
// (componentOf/encompassingEncounter/location/healthCareFacility/code) and the XDM
// metadata (healthcareFacilityTypeCode). Hospitals and cancer centres first.
var HealthcareFacilityTypes = []XDSCode{
	{"SA01", "Etablissement public de santé", OIDSecteurActivite},
	{"SA02", "Hôpital militaire du Service de santé des armées", OIDSecteurActivite},
	{"SA03", "Etablissement privé PSPH", OIDSecteurActivite},
	{"SA04", "Etablissement privé non PSPH", OIDSecteurActivite},
	{"SA36", "Centre anti-cancer", OIDSecteurActivite},
	{"SA05", "Centre de santé", OIDSecteurActivite},
	{"SA07", "Cabinet individuel", OIDSecteurActivite},
	{"SA08", "Cabinet de groupe", OIDSecteurActivite},
	{"SA09", "Exercice en société", OIDSecteurActivite},
	{"SA12", "Etablissement de soins et prévention", OIDSecteurActivite},
	{"SA30", "Autre établissement sanitaire", OIDSecteurActivite},
	{"SA51", "Structure de coopération avec autorisation de soins", OIDSecteurActivite},
	{"SA52", "Maison de santé ou Pôle de santé", OIDSecteurActivite},
	{"SA57", "Structure de coopération avec mission de coordination de soins", OIDSecteurActivite},
}

// PracticeSettings is JDV_J04-XdsPracticeSettingCode-CISIS (value set
// 1.2.250.1.213.1.1.5.467, codes of TRE_A01-CadreExercice) less the patient's own
// expression: the setting the author practises in, in the XDM metadata
// (practiceSettingCode) and the CDA header
// (documentationOf/serviceEvent/performer/.../representedOrganization/standardIndustryClassCode).
var PracticeSettings = []XDSCode{
	{"ETABLISSEMENT", "Etablissement de santé", OIDCadreExercice},
	{"AMBULATOIRE", "Ambulatoire", OIDCadreExercice},
	{"PALLIATIF", "Soins palliatifs", OIDCadreExercice},
	{"HAD", "Hospitalisation à domicile", OIDCadreExercice},
	{"SAD", "Soins à domicile", OIDCadreExercice},
	{"MAD", "Maintien à domicile", OIDCadreExercice},
	{"DEPISTAGE", "Dépistage", OIDCadreExercice},
	{"AMO", "Organisme d'assurance maladie obligatoire", OIDCadreExercice},
	{"SAMU_SMUR", "SAMU/SMUR", OIDCadreExercice},
}

// Defaults of the site's XDS settings: the letters come from the implanting centre
// (établissement poseur), taken as a public hospital practising as a health
// establishment; a private or cancer centre sets its own (project convention, not in
// the seeds).
const (
	defaultFacilityType    = "SA01"
	defaultPracticeSetting = "ETABLISSEMENT"
)

// AuthorSpecialties are the physician specialties of JDV_J01-XdsAuthorSpecialty-CISIS
// (value set 1.2.250.1.213.1.1.5.461) the pathway's authors have, by their TRE_R38
// code: the algologist is most often an anaesthetist. Another SMnn specialty of a
// PractitionerRole is rendered from its own display.
var AuthorSpecialties = map[string]XDSCode{
	"SM02": {"G15_10/SM02", "Médecin - Anesthésie-réanimation (SM)", OIDAuthorSpecialty},
	"SM26": {"G15_10/SM26", "Médecin - Qualifié en Médecine Générale (SM)", OIDAuthorSpecialty},
	"SM29": {"G15_10/SM29", "Médecin - Médecine physique et réadaptation (SM)", OIDAuthorSpecialty},
	"SM31": {"G15_10/SM31", "Médecin - Neuro-chirurgie (SM)", OIDAuthorSpecialty},
	"SM32": {"G15_10/SM32", "Médecin - Neurologie (SM)", OIDAuthorSpecialty},
	"SM36": {"G15_10/SM36", "Médecin - Oncologie, opt médicale (SM)", OIDAuthorSpecialty},
	"SM37": {"G15_10/SM37", "Médecin - Oncologie, opt radiothérapie (SM)", OIDAuthorSpecialty},
	"SM44": {"G15_10/SM44", "Médecin - Radio-diagnostic (SM)", OIDAuthorSpecialty},
	"SM54": {"G15_10/SM54", "Médecin - Médecine Générale (SM)", OIDAuthorSpecialty},
}

// AuthorSpecialtyFallback is the author's code when his PractitionerRole gives no
// specialty: the profession alone (JDV_J01 "G15_10", Médecin), which the CI-SIS
// accepts for a professional whose specialty is not known.
var AuthorSpecialtyFallback = XDSCode{"G15_10", "Médecin", OIDAuthorSpecialty}

// AuthorSpecialtyOf maps a PractitionerRole.specialty coding to the JDV_J01 code:
// a TRE_R38 code ("SM02", system URLSpecialiteOrdinale or its OID) or a JDV_J01 code
// already ("G15_10/SM02"). display is the coding's display, used for an SMnn code the
// table does not hold.
func AuthorSpecialtyOf(system, code, display string) (XDSCode, bool) {
	system = strings.TrimPrefix(system, "urn:oid:")
	switch {
	case system == OIDAuthorSpecialty && strings.HasPrefix(code, "G15_10"):
		for _, s := range AuthorSpecialties {
			if s.Code == code {
				return s, true
			}
		}
		if display != "" {
			return XDSCode{code, display, OIDAuthorSpecialty}, true
		}
	case system == OIDSpecialiteOrdinale || system == URLSpecialiteOrdinale:
		if s, ok := AuthorSpecialties[code]; ok {
			return s, true
		}
		if strings.HasPrefix(code, "SM") && display != "" {
			return XDSCode{"G15_10/" + code, "Médecin - " + display + " (SM)", OIDAuthorSpecialty}, true
		}
	}
	return XDSCode{}, false
}

func xdsCode(table []XDSCode, code string) (XDSCode, bool) {
	for _, c := range table {
		if c.Code == code {
			return c, true
		}
	}
	return XDSCode{}, false
}

// HealthcareFacilityType is the site's facility type (SA01 by default).
func (s *Site) HealthcareFacilityType() XDSCode {
	var set string
	if s != nil {
		set = s.facilityType
	}
	return siteXDSCode(HealthcareFacilityTypes, set, defaultFacilityType)
}

// PracticeSetting is the site's practice setting (ETABLISSEMENT by default).
func (s *Site) PracticeSetting() XDSCode {
	var set string
	if s != nil {
		set = s.practiceSetting
	}
	return siteXDSCode(PracticeSettings, set, defaultPracticeSetting)
}

// siteXDSCode is the code of table that a site set, or def when it set none.
func siteXDSCode(table []XDSCode, set, def string) XDSCode {
	if set == "" {
		set = def
	}
	c, _ := xdsCode(table, set)
	return c
}

// parseXDSSetting reads one of the site's XDS settings from a rules file; it reports
// false for another name.
func (s *Site) parseXDSSetting(name string, v any) (bool, error) {
	var table []XDSCode
	var into *string
	switch name {
	case SettingFacilityType:
		table, into = HealthcareFacilityTypes, &s.facilityType
	case SettingPracticeSetting:
		table, into = PracticeSettings, &s.practiceSetting
	default:
		return false, nil
	}
	code, _ := v.(string)
	if _, ok := xdsCode(table, code); !ok {
		var codes []string
		for _, c := range table {
			codes = append(codes, c.Code)
		}
		return true, fmt.Errorf("%s: %v is not a code of the ANS value set (one of %s)", name, v, strings.Join(codes, ", "))
	}
	*into, s.overridden[name] = code, true
	return true, nil
}
