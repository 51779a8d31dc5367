package smart

import (
	"context"
	"net/http"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/aitgw/aitgw/fhir"
)

// PatientSummary is one line of the standalone-launch patient picker. It is shown to
// an authenticated user in the browser only, never logged.
type PatientSummary struct {
	ID        string
	Name      string
	BirthDate string
	// Identifiers are the patient's identifier values (the INS among them).
	Identifiers []string
	// INS is the national health identifier (INS-NIR/NIA), when the patient has one.
	INS string
}

// PatientDirectory finds patients for the picker and the consent page.
type PatientDirectory interface {
	// Find returns at most limit patients among those care allows that match query
	// (see PatientSummary.Matches), and whether more matched.
	Find(ctx context.Context, care Care, query string, limit int) ([]PatientSummary, bool, error)
	// Summary returns one patient's line, nil when there is no such patient.
	Summary(ctx context.Context, id string) (*PatientSummary, error)
}

// PatientAccess answers which patients a user may see (PatientsInCare over the
// gateway's store: StoreCare).
type PatientAccess interface {
	PatientsInCare(ctx context.Context, fhirUser string) (Care, error)
}

// StoreCare is PatientAccess over the gateway's store: PatientsInCare, and for a
// Patient user also the patients they are linked to as a RelatedPerson (a parent, a
// carer: Patient.link of type seealso naming an active RelatedPerson whose patient
// is the other), so that they may launch an app for them.
type StoreCare struct{ Store fhir.Store }

// PatientsInCare implements PatientAccess.
func (s StoreCare) PatientsInCare(ctx context.Context, fhirUser string) (Care, error) {
	c, err := PatientsInCare(ctx, s.Store, fhirUser)
	typ, id, _ := strings.Cut(fhirUser, "/")
	if err != nil || c.All || typ != "Patient" || id == "" {
		return c, err
	}
	err = s.Store.View(ctx, func(tx fhir.Tx) error {
		var p struct {
			Link []struct {
				Other reference `json:"other"`
				Type  string    `json:"type"`
			} `json:"link"`
		}
		if found, err := readInto(tx, "Patient", id, &p); err != nil || !found {
			return err
		}
		for _, l := range p.Link {
			rid, ok := l.Other.id("RelatedPerson")
			if !ok || l.Type != "seealso" {
				continue
			}
			var rp struct {
				Active  *bool     `json:"active"`
				Patient reference `json:"patient"`
			}
			found, err := readInto(tx, "RelatedPerson", rid, &rp)
			if err != nil {
				return err
			}
			if !found || rp.Active != nil && !*rp.Active {
				continue
			}
			if pid, ok := rp.Patient.id("Patient"); ok {
				c.Patients[pid] = true
			}
		}
		return nil
	})
	return c, err
}

// pickerLimit bounds the patients one picker page lists.
const pickerLimit = 20

// careOf is the set of patients the user of a request may pick. Without an access
// rule (s.Access nil: development setups) or without a user (no login configured),
// every patient.
func (s *AuthServer) careOf(ctx context.Context, fhirUser string) (Care, error) {
	if s.Access == nil || fhirUser == "" && s.Users == nil {
		return Care{All: true}, nil
	}
	return s.Access.PatientsInCare(ctx, fhirUser)
}

// checkPatientAccess refuses a patient context the user may not see: a user whose
// fhirUser is Patient/A never gets a token for B, a practitioner only for the
// patients in their care. It runs at the authorization endpoint and again at the
// token endpoint (code and refresh), whatever the picker showed.
func (s *AuthServer) checkPatientAccess(ctx context.Context, fhirUser, patient string) *oauthErr {
	if patient == "" {
		return nil
	}
	care, err := s.careOf(ctx, fhirUser)
	if err != nil {
		return &oauthErr{http.StatusInternalServerError, "server_error", "the user's patients could not be determined"}
	}
	if !care.MaySee(patient) {
		return badRequest("invalid_grant", "the user may not open this patient's record")
	}
	return nil
}

// Matches reports whether the patient answers a picker query: every word of it must
// be found in the name (accents and case ignored), or the query is the birth date
// (YYYY-MM-DD or DD/MM/YYYY), or one of the identifiers (INS, IPP; spaces ignored).
// An empty query matches everyone.
func (p PatientSummary) Matches(query string) bool {
	q := strings.TrimSpace(query)
	if q == "" {
		return true
	}
	if d, ok := isoDate(q); ok {
		return p.BirthDate == d
	}
	compact := strings.ReplaceAll(q, " ", "")
	for _, id := range p.Identifiers {
		if id != "" && strings.ReplaceAll(id, " ", "") == compact {
			return true
		}
	}
	name := fold(p.Name)
	for _, w := range strings.Fields(fold(q)) {
		if !strings.Contains(name, w) {
			return false
		}
	}
	return true
}

// isoDate reads YYYY-MM-DD or DD/MM/YYYY.
func isoDate(s string) (string, bool) {
	digits := func(s string) bool {
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	if len(s) == 10 && s[4] == '-' && s[7] == '-' && digits(s[:4]) && digits(s[5:7]) && digits(s[8:]) {
		return s, true
	}
	if len(s) == 10 && s[2] == '/' && s[5] == '/' && digits(s[:2]) && digits(s[3:5]) && digits(s[6:]) {
		return s[6:] + "-" + s[3:5] + "-" + s[:2], true
	}
	return "", false
}

// fold lower-cases s and strips its accents ("Hélène" finds "helene").
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}
