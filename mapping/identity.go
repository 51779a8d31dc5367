package mapping

import (
	"net/url"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// INS systems: the French national health identifier (INS), as NIR or NIA, and their
// test-range OIDs (ANS, "Référentiel INS"). An INS names one person for life: when two
// patients both carry one, it alone decides whether they are the same person.
var insSystems = map[string]bool{
	"urn:oid:1.2.250.1.213.1.4.8":  true, // INS-NIR
	"urn:oid:1.2.250.1.213.1.4.9":  true, // INS-NIA
	"urn:oid:1.2.250.1.213.1.4.10": true, // INS-NIR test
	"urn:oid:1.2.250.1.213.1.4.11": true, // INS-NIA test
}

// Identity is how the gateway tells one patient from another before it matches
// anything of theirs: the INS when present, else the sender's local identifier (IPP)
// together with the birth date and the family name.
type Identity struct {
	// INS and IPP are "system|value" keys.
	INS, IPP  []string
	BirthDate string
	// Family is the first family name, folded (case and accents) for comparison.
	Family string
	// family is the family name as sent, for messages.
	family string
}

// IdentityOf reads the identity of a Patient resource.
func IdentityOf(patient []byte) Identity {
	m, err := decodeObject(patient)
	if err != nil {
		return Identity{}
	}
	return identityOf(m)
}

func identityOf(m object) Identity {
	var id Identity
	for _, i := range objs(m, "identifier") {
		sys, val := str(i, "system"), str(i, "value")
		if sys == "" || val == "" || sys == IdentifierIntake {
			continue
		}
		k := sys + "|" + val
		if insSystems[sys] {
			id.INS = append(id.INS, k)
		} else {
			id.IPP = append(id.IPP, k)
		}
	}
	sort.Strings(id.INS)
	sort.Strings(id.IPP)
	id.BirthDate = str(m, "birthDate")
	if names := objs(m, "name"); len(names) > 0 {
		id.family = str(names[0], "family")
		id.Family = fold(id.family)
	}
	return id
}

// fold compares names without case, accents or surrounding spaces.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimSpace(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// Known reports whether the identity can be checked at all (an INS, or an IPP).
func (id Identity) Known() bool { return len(id.INS) > 0 || len(id.IPP) > 0 }

// Keys are the identifiers ("system|value") another patient could share.
func (id Identity) Keys() []string { return append(append([]string{}, id.INS...), id.IPP...) }

// String names the identity by what identifies it: the INS, else the IPP, birth
// date and family name. It is what the caller sent, quoted back in a refusal.
func (id Identity) String() string {
	if len(id.INS) > 0 {
		return "INS " + strings.Join(id.INS, ", ")
	}
	if len(id.IPP) == 0 {
		return "no INS nor IPP"
	}
	return "IPP " + strings.Join(id.IPP, ", ") + ", birth date " + orNone(id.BirthDate) + ", family name " + orNone(id.family)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Disagreement compares two identities and returns the element on which they
// disagree ("" when they are the same person). Two INS decide alone; otherwise an IPP
// of the same sender (system) must be equal, and so must the birth date and the family
// name. When nothing in common lets the gateway tell, they disagree: in doubt, refuse.
func (id Identity) Disagreement(other Identity) string {
	if len(id.INS) > 0 && len(other.INS) > 0 {
		if shares(id.INS, other.INS) {
			return ""
		}
		return "Patient.identifier (INS)"
	}
	if !shares(id.IPP, other.IPP) {
		if sameSystemOtherValue(id.IPP, other.IPP) {
			return "Patient.identifier (IPP)"
		}
		return "Patient.identifier (no INS or IPP in common)"
	}
	if id.BirthDate != other.BirthDate {
		return "Patient.birthDate"
	}
	if id.Family != other.Family {
		return "Patient.name.family"
	}
	return ""
}

func shares(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func sameSystemOtherValue(a, b []string) bool {
	for _, x := range a {
		sx, _, _ := strings.Cut(x, "|")
		for _, y := range b {
			if sy, _, _ := strings.Cut(y, "|"); sx == sy && x != y {
				return true
			}
		}
	}
	return false
}

// patientCondition is the ifNoneExist of a referral's Patient: its INS when it has
// one; else its IPP with its birth date and family name, so that a patient who shares
// an IPP but not the rest is not taken for the stored one (the write then refuses the
// conflict, see mapping/pathway).
func patientCondition(m object) string {
	id := identityOf(m)
	if len(id.INS) > 0 {
		return "identifier=" + url.QueryEscape(id.INS[0])
	}
	if len(id.IPP) == 0 {
		return ""
	}
	q := "identifier=" + url.QueryEscape(id.IPP[0])
	if id.BirthDate != "" {
		q += "&birthdate=" + url.QueryEscape(id.BirthDate)
	}
	if id.family != "" {
		q += "&family:exact=" + url.QueryEscape(id.family)
	}
	return q
}

// patientKeysOf maps the fullUrl of each Patient entry to the identifier that
// identifies it (its INS, else its IPP).
func patientKeysOf(entries []object) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		r := obj(e, "resource")
		if str(r, "resourceType") != "Patient" || str(e, "fullUrl") == "" {
			continue
		}
		if keys := identityOf(r).Keys(); len(keys) > 0 {
			out[str(e, "fullUrl")] = keys[0]
		}
	}
	return out
}

// scopeToPatient narrows an entry's ifNoneExist to resources of the same patient
// (a chained search on the patient's identifier): a referral identifier, a lab's
// identifier or the pathway CarePlan of one patient never matches another's, whose
// collision the write then refuses (mapping/pathway checks identities).
func scopeToPatient(e, r object, keys map[string]string) {
	req := obj(e, "request")
	if req == nil || str(req, "ifNoneExist") == "" {
		return
	}
	for _, param := range []string{"subject", "patient"} {
		if key, ok := keys[str(obj(r, param), "reference")]; ok {
			req["ifNoneExist"] = str(req, "ifNoneExist") + "&" + param + ":Patient.identifier=" + url.QueryEscape(key)
			return
		}
	}
}
