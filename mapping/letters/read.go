// Package letters writes the letter of a pathway milestone: it gathers the facts the
// recipient needs to act from the pathway's resources (the referral, the RCP Task,
// the planning, the implantation Procedure and its Device, the intrathecal
// prescription, the refill Procedures), fills the milestone's template
// (rules.Letters) in French with dates in Paris time, and renders the letter as a
// PDF with its header, the patient's identity (INS), the author and the signature
// block.
package letters

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // letters give Paris times even on hosts without a zone database

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// object is a decoded resource.
type object = map[string]any

func decode(b []byte) object {
	var m object
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func str(m object, k string) string {
	s, _ := m[k].(string)
	return s
}

func obj(m object, k string) object {
	o, _ := m[k].(map[string]any)
	return o
}

func objs(m object, k string) []object {
	var out []object
	switch v := m[k].(type) {
	case []any:
		for _, x := range v {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
	case map[string]any:
		out = append(out, v)
	}
	return out
}

func ref(m object, k string) string { return str(obj(m, k), "reference") }

func num(m object, k string) (float64, bool) {
	switch v := m[k].(type) {
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// codings lists the codings of a CodeableConcept.
func codings(cc object) []object { return objs(cc, "coding") }

// hasCode reports whether one of the concepts carries system|code.
func hasCode(ccs []object, system, code string) bool {
	for _, cc := range ccs {
		for _, c := range codings(cc) {
			if str(c, "system") == system && str(c, "code") == code {
				return true
			}
		}
	}
	return false
}

// conceptText is a concept's text, else its first display, else its first code.
func conceptText(cc object) string {
	if t := str(cc, "text"); t != "" {
		return t
	}
	for _, c := range codings(cc) {
		if d := str(c, "display"); d != "" {
			return d
		}
	}
	for _, c := range codings(cc) {
		if d := str(c, "code"); d != "" {
			return d
		}
	}
	return ""
}

// ext returns the extension of url.
func ext(m object, u string) object {
	for _, e := range objs(m, "extension") {
		if str(e, "url") == u {
			return e
		}
	}
	return nil
}

// reader reads the pathway's resources, remembering what it read.
type reader struct {
	r     mapping.Records
	cache map[string]object
}

// get returns the resource a literal reference names, nil when absent or unreadable.
func (rd *reader) get(reference string) object {
	typ, id, ok := strings.Cut(reference, "/")
	if !ok || typ == "" || id == "" || strings.Contains(id, "/") {
		return nil
	}
	if m, ok := rd.cache[reference]; ok {
		return m
	}
	b, err := rd.r.Read(typ, id)
	var m object
	if err == nil {
		m = decode(b)
	}
	rd.cache[reference] = m
	return m
}

// search returns the resources of typ of the patient, oldest first by date.
func (rd *reader) search(typ, patient string) []object {
	if patient == "" {
		return nil
	}
	bodies, err := rd.r.Search(typ, "patient="+url.QueryEscape(patient))
	if err != nil {
		return nil
	}
	var out []object
	for _, b := range bodies {
		if m := decode(b); m != nil {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return dateOf(out[i]).Before(dateOf(out[j])) })
	return out
}

// dates a resource is dated with, in order (as mapping.ReadEvent reads them).
var dateKeys = []string{"performedDateTime", "occurrenceDateTime", "effectiveDateTime", "authoredOn", "date", "created"}

func dateOf(m object) time.Time {
	for _, k := range dateKeys {
		if t, ok := parseDate(str(m, k)); ok {
			return t
		}
	}
	for _, k := range []string{"period", "executionPeriod", "performedPeriod", "effectivePeriod"} {
		if t, ok := parseDate(str(obj(m, k), "start")); ok {
			return t
		}
	}
	return time.Time{}
}

// parseDate reads a FHIR date or dateTime.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// dateOnly reports whether a FHIR date string carries no time.
func dateOnly(s string) bool { return len(s) <= 10 }

// Paris is the letters' time zone.
var Paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic("letters: Europe/Paris missing from the embedded zone database: " + err.Error()) // build-time data
	}
	return l
}()

// FrenchDate renders a time as 24/03/2026 à 09h00, Paris time.
func FrenchDate(t time.Time) string { return t.In(Paris).Format("02/01/2006 à 15h04") }

// FrenchDay renders a date as 24/03/2026, Paris time.
func FrenchDay(t time.Time) string { return t.In(Paris).Format("02/01/2006") }

// frenchFHIRDate renders a FHIR date or dateTime string in French ("" when absent).
func frenchFHIRDate(s string) string {
	t, ok := parseDate(s)
	if !ok {
		return ""
	}
	if dateOnly(s) {
		return t.Format("02/01/2006")
	}
	return FrenchDate(t)
}

// eventDate renders the date of a resource in French, with its time when it has one.
func eventDate(m object) string {
	for _, k := range dateKeys {
		if s := str(m, k); s != "" {
			return frenchFHIRDate(s)
		}
	}
	for _, k := range []string{"period", "executionPeriod", "performedPeriod", "effectivePeriod"} {
		if s := str(obj(m, k), "start"); s != "" {
			return frenchFHIRDate(s)
		}
	}
	return ""
}

// decimal renders a number the French way (comma).
func decimal(v float64) string {
	return strings.ReplaceAll(strconv.FormatFloat(v, 'f', -1, 64), ".", ",")
}

// frenchUnit renders a UCUM unit for a French reader.
func frenchUnit(u string) string {
	r := strings.NewReplacer("ug", "µg", "/d", "/j", "mo", "mois")
	return r.Replace(u)
}

// quantity renders a Quantity ("40 mL").
func quantity(q object) string {
	v, ok := num(q, "value")
	if !ok {
		return ""
	}
	u := str(q, "code")
	if u == "" {
		u = str(q, "unit")
	}
	return strings.TrimSpace(decimal(v) + " " + frenchUnit(u))
}

// Party is a person or organisation a letter names.
type Party struct {
	Reference string
	// Name is "Dr Prénom NOM" for a practitioner, the name of an organisation.
	Name string
	// RPPS is the practitioner's RPPS number; Organization the name of the
	// organisation of a PractitionerRole.
	RPPS, Organization string
	// Given and Family are a practitioner's names (family in capitals).
	Given, Family string
	// FINESS is the organisation's FINESS number (of the organisation itself, or of
	// a PractitionerRole's organisation).
	FINESS string
	// Telecom are the contacts ("tél. …", "messagerie …").
	Phone, Email string
	// Specialty is a PractitionerRole's specialty as the French XDS metadata codes an
	// author's (JDV_J01-XdsAuthorSpecialty-CISIS); zero when the role gives none.
	Specialty rules.XDSCode
}

// String renders the party for a letter's sentence.
func (p Party) String() string {
	s := p.Name
	if p.Organization != "" && p.Organization != p.Name {
		s += " (" + p.Organization + ")"
	}
	return s
}

// Contact renders the party's phone and mail.
func (p Party) Contact() string {
	var out []string
	if p.Phone != "" {
		out = append(out, "tél. "+p.Phone)
	}
	if p.Email != "" {
		out = append(out, "messagerie "+p.Email)
	}
	return strings.Join(out, ", ")
}

// SystemRPPS is the identifier system of the RPPS (French practitioner registry).
const SystemRPPS = "https://rpps.esante.gouv.fr"

// party reads a Practitioner, PractitionerRole or Organization.
func (rd *reader) party(reference string) Party {
	p := Party{Reference: reference}
	m := rd.get(reference)
	if m == nil {
		return p
	}
	telecom := func(m object) {
		for _, t := range objs(m, "telecom") {
			v := strings.TrimPrefix(str(t, "value"), "mailto:")
			switch str(t, "system") {
			case "phone":
				if p.Phone == "" {
					p.Phone = v
				}
			case "email":
				if p.Email == "" {
					p.Email = v
				}
			}
		}
	}
	switch str(m, "resourceType") {
	case "PractitionerRole":
		telecom(m)
		if org := rd.get(ref(m, "organization")); org != nil {
			p.Organization, p.FINESS = str(org, "name"), finess(org)
		}
		p.Specialty = specialty(objs(m, "specialty"))
		inner := rd.party(ref(m, "practitioner"))
		if p.Specialty.Code == "" {
			p.Specialty = inner.Specialty
		}
		p.Name, p.RPPS, p.Given, p.Family = inner.Name, inner.RPPS, inner.Given, inner.Family
		if p.Phone == "" {
			p.Phone = inner.Phone
		}
		if p.Email == "" {
			p.Email = inner.Email
		}
	case "Practitioner":
		telecom(m)
		p.Name = "Dr " + humanName(objs(m, "name"))
		if names := objs(m, "name"); len(names) > 0 {
			p.Family = strings.ToUpper(str(names[0], "family"))
			if g, ok := names[0]["given"].([]any); ok && len(g) > 0 {
				p.Given, _ = g[0].(string)
			}
		}
		var quals []object
		for _, q := range objs(m, "qualification") {
			quals = append(quals, obj(q, "code"))
		}
		p.Specialty = specialty(quals)
		for _, id := range objs(m, "identifier") {
			if str(id, "system") == SystemRPPS || strings.HasSuffix(str(id, "system"), "1.2.250.1.71.4.2.1") {
				p.RPPS = str(id, "value")
			}
		}
	case "Organization":
		telecom(m)
		p.Name, p.FINESS = str(m, "name"), finess(m)
	default:
		p.Name = humanName(objs(m, "name"))
	}
	if strings.TrimSpace(strings.TrimPrefix(p.Name, "Dr ")) == "" {
		p.Name = ""
	}
	return p
}

// humanName renders the official (or first) name as "Prénom NOM".
func humanName(names []object) string {
	var pick object
	for _, n := range names {
		if str(n, "use") == "official" {
			pick = n
			break
		}
	}
	if pick == nil && len(names) > 0 {
		pick = names[0]
	}
	if pick == nil {
		return ""
	}
	if t := str(pick, "text"); t != "" && str(pick, "family") == "" {
		return t
	}
	var given []string
	if g, ok := pick["given"].([]any); ok {
		for _, x := range g {
			if s, ok := x.(string); ok {
				given = append(given, s)
			}
		}
	}
	return strings.TrimSpace(strings.Join(given, " ") + " " + strings.ToUpper(str(pick, "family")))
}

// Identity is the patient as a letter identifies him: the INS first.
type Identity struct {
	Reference string
	Family    string
	Given     string
	BirthDate string // FHIR date
	Gender    string
	// INS is the national health identifier (NIR/NIA), INSSystem its OID
	// (1.2.250.1.213.1.4.8 NIR, 1.2.250.1.213.1.4.9 NIA; .10 and .11 their test
	// authorities).
	INS, INSSystem string
}

// INS OIDs (ANS, identité nationale de santé; the FHIR FR Core INS-NIR and INS-NIA
// identifier systems, and the test authorities of the INSi test service).
const (
	OIDNIR     = "1.2.250.1.213.1.4.8"
	OIDNIA     = "1.2.250.1.213.1.4.9"
	OIDNIRTest = "1.2.250.1.213.1.4.10"
	OIDNIATest = "1.2.250.1.213.1.4.11"
)

// Name renders "Prénom NOM".
func (id Identity) Name() string {
	return strings.TrimSpace(id.Given + " " + strings.ToUpper(id.Family))
}

func (rd *reader) identity(patient string) Identity {
	id := Identity{Reference: patient}
	m := rd.get(patient)
	if m == nil {
		return id
	}
	names := objs(m, "name")
	for _, n := range names {
		if str(n, "use") == "official" || id.Family == "" {
			id.Family = str(n, "family")
			if g, ok := n["given"].([]any); ok {
				var given []string
				for _, x := range g {
					if s, ok := x.(string); ok {
						given = append(given, s)
					}
				}
				id.Given = strings.Join(given, " ")
			}
		}
	}
	id.BirthDate, id.Gender = str(m, "birthDate"), str(m, "gender")
	for _, x := range objs(m, "identifier") {
		sys := strings.TrimPrefix(str(x, "system"), "urn:oid:")
		if sys == OIDNIR || sys == OIDNIA || sys == OIDNIRTest || sys == OIDNIATest {
			if id.INS == "" || sys == OIDNIR || sys == OIDNIRTest {
				id.INS, id.INSSystem = str(x, "value"), sys
			}
		}
	}
	return id
}

// list renders items as lines "- item".
func list(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return "- " + strings.Join(items, "\n- ")
}

// join renders items separated by commas.
func join(items []string) string { return strings.Join(items, ", ") }

// sprintf is fmt.Sprintf (kept short in the fact builders).
var sprintf = fmt.Sprintf

// SystemFINESS is the identifier system of the FINESS (French facility registry).
const SystemFINESS = "https://finess.esante.gouv.fr"

func finess(org object) string {
	for _, id := range objs(org, "identifier") {
		if s := str(id, "system"); s == SystemFINESS || s == "urn:oid:1.2.250.1.71.4.2.2" {
			return str(id, "value")
		}
	}
	return ""
}

// Parties reads the patient's identity and the author and recipient of a stored
// letter (the header of its CDA document).
func Parties(r mapping.Records, patient, author, recipient string) (Identity, Party, Party) {
	rd := &reader{r: r, cache: map[string]object{}}
	return rd.identity(patient), rd.party(author), rd.party(recipient)
}
