package smart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Care is the set of patients a user may see: the answer of "which patients may this
// fhirUser see", used by the user/ scopes (Grant.Access) and by the standalone
// launch's patient picker, so that both follow one rule.
type Care struct {
	// All is set for a coordinator (a Practitioner holding the coordinating
	// algologist's PractitionerRole, 000 §VII): every patient.
	All bool
	// Patients are the ids of the patients the user may see when All is not set.
	Patients map[string]bool
}

// MaySee reports whether the user may see Patient/patientID.
func (c Care) MaySee(patientID string) bool { return c.All || c.Patients[patientID] }

// IDs lists the patients of c in id order (nil for All: check All first).
func (c Care) IDs() []string {
	out := make([]string, 0, len(c.Patients))
	for id := range c.Patients {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// coordinatorRoles are the PractitionerRole codes whose holder coordinates the
// pathways and therefore sees every patient: the algologist of the implanting centre
// (pathways.md "Actors"; 000 §VII).
var coordinatorRoles = []struct{ System, Code, Section string }{
	{rules.SystemPractitionerRole, string(rules.RoleAlgologist), "000 §VII"},
}

// PatientsInCare answers which patients the user named by fhirUser may see:
//
//   - Patient/A: only A;
//   - RelatedPerson/R: the patient R is related to, while R is active;
//   - Practitioner/X (or PractitionerRole/R of X): every patient when X holds an active
//     coordinating role (coordinatorRoles); otherwise the patients whose CarePlan names
//     X (author, contributor, activity performer, or a care team X belongs to) or whose
//     CareTeam lists X as a participant — directly or through one of X's
//     PractitionerRoles;
//   - anything else (no fhirUser, Person, Device…): nobody.
//
// Only relative references count: an absolute URL may name another server's
// resource with the same id.
func PatientsInCare(ctx context.Context, store fhir.Store, fhirUser string) (Care, error) {
	var c Care
	err := store.View(ctx, func(tx fhir.Tx) error {
		var err error
		c, err = CareOf(tx, fhirUser)
		return err
	})
	return c, err
}

// CareOf is PatientsInCare inside a read transaction.
func CareOf(tx fhir.Tx, fhirUser string) (Care, error) {
	c := Care{Patients: map[string]bool{}}
	typ, id, ok := strings.Cut(fhirUser, "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return c, nil
	}
	switch typ {
	case "Patient":
		c.Patients[id] = true
		return c, nil
	case "RelatedPerson":
		var rp struct {
			Active  *bool     `json:"active"`
			Patient reference `json:"patient"`
		}
		found, err := readInto(tx, typ, id, &rp)
		if err != nil || !found || (rp.Active != nil && !*rp.Active) {
			return c, err
		}
		if p, ok := rp.Patient.id("Patient"); ok {
			c.Patients[p] = true
		}
		return c, nil
	case "PractitionerRole":
		var pr practitionerRole
		found, err := readInto(tx, typ, id, &pr)
		if err != nil || !found {
			return c, err
		}
		p, ok := pr.Practitioner.id("Practitioner")
		if !ok {
			// a role without a practitioner names only itself
			return c, careTeamsAndPlans(tx, map[string]bool{fhirUser: true}, &c)
		}
		id = p
	case "Practitioner":
	default:
		return c, nil
	}
	names, all, err := practitionerNames(tx, id)
	if err != nil || all {
		return Care{All: all}, err
	}
	return c, careTeamsAndPlans(tx, names, &c)
}

// reference is a FHIR Reference, as far as the rule reads it.
type reference struct {
	Reference string `json:"reference"`
}

// id returns the id of a relative reference to typ.
func (r reference) id(typ string) (string, bool) {
	t, id, ok := strings.Cut(r.Reference, "/")
	if !ok || t != typ || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

type practitionerRole struct {
	Active       *bool     `json:"active"`
	Practitioner reference `json:"practitioner"`
	Code         []struct {
		Coding []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"coding"`
	} `json:"code"`
}

// coordinates reports whether the role is an active coordinating one.
func (r practitionerRole) coordinates() bool {
	if r.Active != nil && !*r.Active {
		return false
	}
	for _, cc := range r.Code {
		for _, cd := range cc.Coding {
			for _, cr := range coordinatorRoles {
				if cd.System == cr.System && cd.Code == cr.Code {
					return true
				}
			}
		}
	}
	return false
}

// practitionerNames returns the references that name Practitioner/id (itself and its
// active PractitionerRoles), and whether one of those roles coordinates.
func practitionerNames(tx fhir.Tx, id string) (map[string]bool, bool, error) {
	self := "Practitioner/" + id
	names := map[string]bool{self: true}
	all := false
	err := scanNaming(tx, "PractitionerRole", []string{self}, func(rec *fhir.Record) error {
		var pr practitionerRole
		if json.Unmarshal(rec.Body, &pr) != nil || pr.Practitioner.Reference != self {
			return nil
		}
		if pr.Active != nil && !*pr.Active {
			return nil
		}
		names["PractitionerRole/"+rec.ID] = true
		all = all || pr.coordinates()
		return nil
	})
	return names, all, err
}

// careTeam and carePlan are the elements of CareTeam and CarePlan that name a patient
// and the professionals caring for them.
type careTeam struct {
	Subject     reference `json:"subject"`
	Participant []struct {
		Member reference `json:"member"`
	} `json:"participant"`
}

type carePlan struct {
	Subject     reference   `json:"subject"`
	Author      reference   `json:"author"`
	Contributor []reference `json:"contributor"`
	CareTeam    []reference `json:"careTeam"`
	Activity    []struct {
		Detail struct {
			Performer []reference `json:"performer"`
		} `json:"detail"`
	} `json:"activity"`
}

// careTeamsAndPlans adds to c the patients of the CareTeams and CarePlans that name
// one of names.
func careTeamsAndPlans(tx fhir.Tx, names map[string]bool, c *Care) error {
	needles := make([]string, 0, len(names))
	for n := range names {
		needles = append(needles, n)
	}
	teams := map[string]bool{}
	err := scanNaming(tx, "CareTeam", needles, func(rec *fhir.Record) error {
		var ct careTeam
		if json.Unmarshal(rec.Body, &ct) != nil {
			return nil
		}
		for _, p := range ct.Participant {
			if names[p.Member.Reference] {
				teams["CareTeam/"+rec.ID] = true
				if id, ok := ct.Subject.id("Patient"); ok {
					c.Patients[id] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for t := range teams {
		needles = append(needles, t)
	}
	return scanNaming(tx, "CarePlan", needles, func(rec *fhir.Record) error {
		var cp carePlan
		if json.Unmarshal(rec.Body, &cp) != nil {
			return nil
		}
		p, ok := cp.Subject.id("Patient")
		if !ok {
			return nil
		}
		named := names[cp.Author.Reference]
		for _, r := range cp.Contributor {
			named = named || names[r.Reference]
		}
		for _, r := range cp.CareTeam {
			named = named || teams[r.Reference]
		}
		for _, a := range cp.Activity {
			for _, r := range a.Detail.Performer {
				named = named || names[r.Reference]
			}
		}
		if named {
			c.Patients[p] = true
		}
		return nil
	})
}

// scanNaming calls fn for each current resource of typ whose body mentions one of the
// references (a cheap byte test before any decoding: most resources name nobody of
// interest).
func scanNaming(tx fhir.Tx, typ string, refs []string, fn func(*fhir.Record) error) error {
	quoted := make([][]byte, len(refs))
	for i, r := range refs {
		quoted[i] = []byte(`"` + r + `"`)
	}
	var ferr error
	err := tx.ScanType(typ, func(rec *fhir.Record) bool {
		for _, q := range quoted {
			if bytes.Contains(rec.Body, q) {
				ferr = fn(rec)
				break
			}
		}
		return ferr == nil
	})
	if err != nil {
		return err
	}
	return ferr
}

// readInto decodes the current version of typ/id into v; false when it does not exist.
func readInto(tx fhir.Tx, typ, id string, v any) (bool, error) {
	rec, err := tx.Current(typ, id)
	if errors.Is(err, fhir.ErrNotFound) || (err == nil && rec.Deleted) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return json.Unmarshal(rec.Body, v) == nil, nil
}
