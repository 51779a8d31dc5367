package rest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// Access is what the interactions need to know of the client's authorization
// (server/smart adapts a SMART grant to it). A nil Access is the server itself, with
// no restriction.
type Access interface {
	// Allows reports whether the interaction (read, vread, search-type, create,
	// update, patch, delete, history-instance, history-type, operation) is granted on
	// typ.
	Allows(interaction, typ string) bool
	// Patient returns the id of the patient whose compartment the interaction on typ is
	// confined to, or "" when it is not confined.
	Patient(interaction, typ string) string
	// CompartmentParams names the search parameters that link typ to a Patient; nil
	// when typ is outside the patient compartment (reference data such as
	// Practitioner or Medication); empty but not nil for patient data nothing links
	// to one patient (Binary, Bundle…), which a confined client never sees.
	CompartmentParams(typ string) []string
	// Constraints are SMART v2 query restrictions on typ: a resource must match at
	// least one of them; nil means none.
	Constraints(interaction, typ string) []url.Values
}

// forbidden is the 403 of an access outside the grant.
func forbidden(expr, format string, args ...any) *fhir.Error {
	return fhir.Errorf(http.StatusForbidden, "security", expr, format, args...)
}

// guard checks one interaction on one resource type before anything is read.
func guard(a Access, interaction, typ string) error {
	if a == nil || a.Allows(interaction, typ) {
		return nil
	}
	return forbidden("", "the access token does not allow %s on %s", interaction, typ)
}

// visibility decides, inside one transaction, which resources a request may see;
// it remembers the compartment and constraint sets it computed.
type visibility struct {
	a           Access
	tx          fhir.Tx
	match       func(tx fhir.Tx, typ, query string) ([]string, error)
	interaction string
	sets        map[string]map[string]bool // typ → visible ids (nil map: all)
}

func (s *Service) visibility(a Access, tx fhir.Tx, interaction string) *visibility {
	return &visibility{a: a, tx: tx, match: s.Engine.Match, interaction: interaction, sets: map[string]map[string]bool{}}
}

// allowed returns the ids of typ the request may see, or nil for all of them.
func (v *visibility) allowed(typ string) (map[string]bool, error) {
	if v.a == nil {
		return nil, nil
	}
	if set, ok := v.sets[typ]; ok {
		return set, nil
	}
	set, err := v.compartment(typ)
	if err != nil {
		return nil, err
	}
	if ownedTypes[typ] {
		if set, err = v.ownedSet(typ, set); err != nil {
			return nil, err
		}
	}
	if cs := v.a.Constraints(v.interaction, typ); len(cs) > 0 {
		allowed := map[string]bool{}
		for _, c := range cs {
			ids, err := v.match(v.tx, typ, c.Encode())
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				if set == nil || set[id] {
					allowed[id] = true
				}
			}
		}
		set = allowed
	}
	v.sets[typ] = set
	return set, nil
}

// compartment returns the ids of typ in the compartments of the patients the request
// is confined to, or nil when it is not confined on typ (or typ is reference data,
// outside the patient compartment).
func (v *visibility) compartment(typ string) (map[string]bool, error) {
	patients, confined, err := ConfinedPatients(v.tx, v.a, v.interaction, typ)
	if err != nil || !confined {
		return nil, err
	}
	params := v.a.CompartmentParams(typ)
	if params == nil && typ != "Patient" {
		return nil, nil // reference data: not confined to a compartment
	}
	set := map[string]bool{}
	if len(patients) == 0 {
		return set, nil
	}
	refs := make([]string, len(patients))
	for i, p := range patients {
		refs[i] = "Patient/" + p
		if typ == "Patient" {
			set[p] = true
		}
	}
	for _, param := range params {
		if strings.HasPrefix(param, "_") || param == "link" {
			continue
		}
		ids, err := v.match(v.tx, typ, url.Values{param: {strings.Join(refs, ",")}}.Encode())
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			set[id] = true
		}
	}
	if typ == "Group" {
		return v.groupsOfOnly(set, patients)
	}
	return set, nil
}

// groupsOfOnly keeps the Groups whose every Patient member is one of patients: a
// cohort (all the patients of a pathway) is in each member's compartment, but its
// member list would show a confined reader the other patients.
func (v *visibility) groupsOfOnly(set map[string]bool, patients []string) (map[string]bool, error) {
	mine := map[string]bool{}
	for _, p := range patients {
		mine["Patient/"+p] = true
	}
	for id := range set {
		rec, err := v.tx.Current("Group", id)
		if err != nil || !groupOfOnly(rec.Body, mine) {
			delete(set, id)
		}
	}
	return set, nil
}

// sees reports whether the request may see typ/id.
func (v *visibility) sees(typ, id string) (bool, error) {
	if v.a == nil {
		return true, nil
	}
	if !v.a.Allows(v.interaction, typ) && !v.a.Allows("read", typ) {
		return false, nil
	}
	set, err := v.allowed(typ)
	if err != nil || set == nil {
		return err == nil, err
	}
	if !set[id] && typ == "Binary" && len(v.a.Constraints(v.interaction, typ)) == 0 {
		return v.binaryOfConfined(id)
	}
	return set[id], nil
}

// groupOfOnly reports whether every Patient member of the Group body is in mine
// ("Patient/id" keys); members are relative or absolute (…/Patient/x/_history/n).
func groupOfOnly(body []byte, mine map[string]bool) bool {
	var g struct {
		Member []struct {
			Entity struct{ Reference string } `json:"entity"`
		} `json:"member"`
	}
	if json.Unmarshal(body, &g) != nil {
		return false
	}
	for _, m := range g.Member {
		ref := m.Entity.Reference
		i := strings.LastIndex(ref, "Patient/")
		if i < 0 || (i > 0 && ref[i-1] != '/') {
			continue
		}
		pid, _, _ := strings.Cut(ref[i+len("Patient/"):], "/")
		if !mine["Patient/"+pid] {
			return false
		}
	}
	return true
}

// sawVersion reports whether one version of a resource the request sees (current
// version checked by sees or mustSee) belonged, then, to a patient the request is
// confined to: a resource moved from one patient to another (a misfiled result
// corrected) keeps its earlier versions from the new patient's readers. Each version
// is judged by the references it held, as $everything judges its snapshot.
func (v *visibility) sawVersion(rec *fhir.Record) (bool, error) {
	if v.a == nil || rec.Deleted {
		return true, nil
	}
	patients, confined, err := ConfinedPatients(v.tx, v.a, v.interaction, rec.Type)
	if err != nil || !confined {
		return err == nil, err
	}
	switch {
	case rec.Type == "Patient":
		return slices.Contains(patients, rec.ID), nil
	case rec.Type == "Group":
		mine := map[string]bool{}
		for _, p := range patients {
			mine["Patient/"+p] = true
		}
		return groupOfOnly(rec.Body, mine), nil
	case rec.Type == "Binary":
		var b struct {
			SecurityContext struct{ Reference string } `json:"securityContext"`
		}
		_ = json.Unmarshal(rec.Body, &b)
		pid, ok := strings.CutPrefix(b.SecurityContext.Reference, "Patient/")
		return ok && slices.Contains(patients, pid), nil
	case v.a.CompartmentParams(rec.Type) == nil:
		return true, nil // reference data
	}
	for _, p := range patients {
		if references(rec.Body, "Patient/"+p) {
			return true, nil
		}
	}
	return false, nil
}

// binaryOfConfined reports whether Binary/id's securityContext names one of the
// patients the request is confined to. Binary lies outside the patient compartment
// (no search parameter links it to a patient), so this is how a confined reader
// reaches its own documents' content by id, as FHIR's securityContext intends.
func (v *visibility) binaryOfConfined(id string) (bool, error) {
	patients, confined, err := ConfinedPatients(v.tx, v.a, v.interaction, "Binary")
	if err != nil || !confined {
		return false, err
	}
	rec, err := v.tx.Current("Binary", id)
	if err != nil || rec.Deleted {
		return false, nil // unknown: refused as forbidden, like any resource outside
	}
	var b struct {
		SecurityContext struct{ Reference string } `json:"securityContext"`
	}
	if json.Unmarshal(rec.Body, &b) != nil {
		return false, nil
	}
	// relative only, as server/binary reads it: an absolute URL may name another
	// server's patient with the same id
	pid, ok := strings.CutPrefix(b.SecurityContext.Reference, "Patient/")
	return ok && slices.Contains(patients, pid), nil
}

// Sees returns, for one read transaction, whether a request with access a may read
// typ/id: the scopes, the patient compartment, the user's care and the SMART v2
// query constraints, as a read checks them. Operations that gather resources
// themselves ($summary) filter with it.
func (s *Service) Sees(tx fhir.Tx, a Access) func(typ, id string) (bool, error) {
	return s.visibility(a, tx, "read").sees
}

// filter keeps the ids the request may see, in order.
func (v *visibility) filter(typ string, ids []string) ([]string, error) {
	set, err := v.allowed(typ)
	if err != nil || set == nil {
		return ids, err
	}
	out := ids[:0:0]
	for _, id := range ids {
		if set[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// filterRecords keeps the records the request may see.
func (v *visibility) filterRecords(recs []*fhir.Record) ([]*fhir.Record, error) {
	var out []*fhir.Record
	for _, r := range recs {
		ok, err := v.sees(r.Type, r.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// mustSee is the check of an instance-level interaction: a resource outside the grant
// is refused as forbidden, whether it exists or not, so that existence does not leak.
func (v *visibility) mustSee(typ, id string) error {
	ok, err := v.sees(typ, id)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden(typ+".id", "%s/%s is outside what the access token may reach (patient compartment or scope constraints)", typ, id)
	}
	return nil
}

// checkWritten verifies, inside a write transaction and after the write, that the
// resource written is one the client may reach: a patient-context client cannot write
// into another patient's compartment.
func (w *Writer) checkWritten(a Access, interaction, typ, id string) error {
	if a == nil {
		return nil
	}
	if err := guard(a, interaction, typ); err != nil {
		return err
	}
	return w.s.visibility(a, w.tx, interaction).mustSee(typ, id)
}

// written checks a write's result against the grant, inside its transaction, so that a
// refused write rolls back.
func (w *Writer) written(a Access, interaction string) func(*Response, error) (*Response, error) {
	return func(resp *Response, err error) (*Response, error) {
		if err != nil || a == nil || resp == nil || resp.Record == nil {
			return resp, err
		}
		if interaction != "create" || resp.Status == http.StatusCreated {
			// a version this request wrote (not a conditional create's existing match)
			if err := w.recordOwner(a, resp.Record.Type, resp.Record.ID); err != nil {
				return nil, err
			}
			if err := w.accessHooks(a, resp.Record.Type, resp.Record.ID); err != nil {
				return nil, err
			}
		}
		if err := w.checkWritten(a, interaction, resp.Record.Type, resp.Record.ID); err != nil {
			return nil, err
		}
		// the response shows the resource as a read would: a conditional create's
		// existing match, or a patch by a system client of another owner's
		// Subscription, without the owner's secret
		shown, err := w.s.visibility(a, w.tx, "read").shown(resp.Record)
		if err != nil {
			return nil, err
		}
		if shown != resp.Record {
			resp.Record = shown
			if resp.Body != nil {
				resp.Body = shown.Body
			}
		}
		return resp, nil
	}
}

// preexisting checks that a resource about to be changed or deleted, if it exists, is
// one the client may reach: a confined client cannot overwrite another patient's data
// by moving it into its own compartment.
func (w *Writer) preexisting(a Access, interaction, typ, id string) error {
	if a == nil || id == "" {
		return nil
	}
	cur, err := w.tx.Current(typ, id)
	if err != nil || cur.Deleted {
		return nil // nothing there yet: the result is checked after the write
	}
	return w.s.visibility(a, w.tx, interaction).mustSee(typ, id)
}
