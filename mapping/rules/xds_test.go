package rules

import (
	"strings"
	"testing"
)

// TestSiteXDSCodes: the facility type and practice setting of the letters' metadata
// are site settings with defaults; a code outside the ANS value set is refused,
// naming the setting.
func TestSiteXDSCodes(t *testing.T) {
	def := (&Site{}).HealthcareFacilityType()
	if def.Code != "SA01" || def.System != OIDSecteurActivite || (&Site{}).PracticeSetting().Code != "ETABLISSEMENT" {
		t.Errorf("defaults %+v %+v", def, (&Site{}).PracticeSetting())
	}
	s, err := ParseSite("site.yaml", []byte("healthcare-facility-type: SA36\npractice-setting: PALLIATIF\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := s.HealthcareFacilityType(); c.Code != "SA36" || c.Display != "Centre anti-cancer" || !s.Overridden(SettingFacilityType) {
		t.Errorf("facility type %+v", c)
	}
	if c := s.PracticeSetting(); c.Code != "PALLIATIF" || c.System != OIDCadreExercice {
		t.Errorf("practice setting %+v", c)
	}
	_, err = ParseSite("site.yaml", []byte("healthcare-facility-type: SA99\npractice-setting: 3\n"))
	if err == nil || !strings.Contains(err.Error(), "healthcare-facility-type: SA99 is not a code") || !strings.Contains(err.Error(), "practice-setting: 3 is not a code") {
		t.Errorf("bad codes: %v", err)
	}
}

// TestAuthorSpecialtyOf: a PractitionerRole's TRE_R38 specialty becomes the JDV_J01
// code of the CDA author and the XDS authorSpecialty.
func TestAuthorSpecialtyOf(t *testing.T) {
	for _, c := range []struct {
		system, code, display string
		want                  string
		ok                    bool
	}{
		{URLSpecialiteOrdinale, "SM02", "", "G15_10/SM02|Médecin - Anesthésie-réanimation (SM)", true},
		{"urn:oid:" + OIDSpecialiteOrdinale, "SM04", "Cardiologie et maladies vasculaires", "G15_10/SM04|Médecin - Cardiologie et maladies vasculaires (SM)", true},
		{"urn:oid:" + OIDAuthorSpecialty, "G15_10/SM54", "", "G15_10/SM54|Médecin - Médecine Générale (SM)", true},
		{"http://snomed.info/sct", "394882004", "Pain management", "", false},
		{URLSpecialiteOrdinale, "SM99", "", "", false},
	} {
		got, ok := AuthorSpecialtyOf(c.system, c.code, c.display)
		if ok != c.ok || (ok && got.Code+"|"+got.Display != c.want) || (ok && got.System != OIDAuthorSpecialty) {
			t.Errorf("%s|%s: %+v %v, want %s %v", c.system, c.code, got, ok, c.want, c.ok)
		}
	}
}
