package mapping

import "testing"

// TestIdentityDisagreement: two INS decide alone; otherwise an IPP of the same
// sender, the birth date and the family name (case and accents aside) must agree;
// nothing in common is a disagreement (in doubt, refuse).
func TestIdentityDisagreement(t *testing.T) {
	const ins, ipp = "urn:oid:1.2.250.1.213.1.4.8|", "https://h.example/ipp|"
	id := func(insv, ippv, birth, family string) Identity {
		x := Identity{BirthDate: birth, Family: fold(family), family: family}
		if insv != "" {
			x.INS = []string{ins + insv}
		}
		if ippv != "" {
			x.IPP = []string{ipp + ippv}
		}
		return x
	}
	a := id("1", "A", "1950-01-01", "Dupré")
	for _, tc := range []struct {
		name string
		b    Identity
		want string
	}{
		{"same", a, ""},
		{"same INS, other birth date", id("1", "B", "1960-01-01", "Autre"), ""},
		{"other INS", id("2", "A", "1950-01-01", "Dupré"), "Patient.identifier (INS)"},
		{"no INS, same IPP, name without accent", id("", "A", "1950-01-01", "DUPRE"), ""},
		{"no INS, same IPP, other birth date", id("", "A", "1951-01-01", "Dupré"), "Patient.birthDate"},
		{"no INS, same IPP, other family", id("", "A", "1950-01-01", "Martin"), "Patient.name.family"},
		{"no INS, other IPP of the same sender", id("", "B", "1950-01-01", "Dupré"), "Patient.identifier (IPP)"},
		{"nothing in common", Identity{BirthDate: "1950-01-01"}, "Patient.identifier (no INS or IPP in common)"},
	} {
		if got := a.Disagreement(tc.b); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		if got := tc.b.Disagreement(a); got != tc.want {
			t.Errorf("%s (reversed): %q, want %q", tc.name, got, tc.want)
		}
	}
}
