package rest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// PatientSet is an optional extension of Access for grants confined to patients the
// server must look up: a user/ scope reaches what its fhirUser may see (the patient
// itself, or the patients a Practitioner cares for), which only the store knows.
type PatientSet interface {
	// Patients returns the ids of the patients the interaction on typ is confined to,
	// reading in tx what it needs; confined false means no patient confinement.
	Patients(tx fhir.Tx, interaction, typ string) (ids []string, confined bool, err error)
}

// ConfinedPatients returns the patients an interaction on typ is confined to (a
// patient-context token's patient, or a PatientSet's), and whether it is confined.
func ConfinedPatients(tx fhir.Tx, a Access, interaction, typ string) ([]string, bool, error) {
	if a == nil {
		return nil, false, nil
	}
	if ps, ok := a.(PatientSet); ok {
		return ps.Patients(tx, interaction, typ)
	}
	if p := a.Patient(interaction, typ); p != "" {
		return []string{p}, true, nil
	}
	return nil, false, nil
}

// Owned is an optional extension of Access naming who asks, for the resource types a
// client sees only when it wrote them (ownedTypes).
type Owned interface {
	// Owner identifies the requester: its client, and the patient and user it acts
	// for, so that two patients using one app do not see each other's resources.
	Owner() string
	// SystemLevel reports whether a system/ scope grants the interaction on typ: a
	// system client sees every owner's resources (not their secrets).
	SystemLevel(interaction, typ string) bool
}

// ownedTypes are the types visible only to the client that wrote them, and to system
// scopes: a Subscription names its receiver and carries its secret.
var ownedTypes = map[string]bool{"Subscription": true}

// secretElements are the elements returned to nobody but the resource's owner (the
// client that first wrote it), by type: a Subscription's channel.header and an
// Endpoint's header hold a receiver's credentials.
var secretElements = map[string][][]string{
	"Subscription": {{"channel", "header"}},
	"Endpoint":     {{"header"}},
}

// auxOwners is the store namespace of owners of ownedTypes resources ("Type/id" →
// Owner()).
const auxOwners = "owner"

// ownerOf returns the owner recorded for typ/id, "" when none (written by the server
// itself, or before owners were recorded: then only system scopes see it).
func ownerOf(tx fhir.Tx, typ, id string) (string, error) {
	b, err := tx.GetAux(auxOwners, typ+"/"+id)
	return string(b), err
}

// ownedSet narrows set (nil: all) to the resources of typ the requester owns, unless a
// system/ scope lets it see them all.
func (v *visibility) ownedSet(typ string, set map[string]bool) (map[string]bool, error) {
	o, ok := v.a.(Owned)
	if !ok || o.SystemLevel(v.interaction, typ) {
		return set, nil
	}
	mine := map[string]bool{}
	var err error
	scanErr := v.tx.ScanType(typ, func(rec *fhir.Record) bool {
		if set != nil && !set[rec.ID] {
			return true
		}
		var owner string
		if owner, err = ownerOf(v.tx, typ, rec.ID); err != nil {
			return false
		}
		if owner != "" && owner == o.Owner() {
			mine[rec.ID] = true
		}
		return true
	})
	if scanErr != nil {
		return nil, scanErr
	}
	return mine, err
}

// recordOwner remembers the first writer of an ownedTypes or secret-bearing resource
// as its owner.
func (w *Writer) recordOwner(a Access, typ, id string) error {
	o, ok := a.(Owned)
	if !ok || (!ownedTypes[typ] && secretElements[typ] == nil) {
		return nil
	}
	cur, err := ownerOf(w.tx, typ, id)
	if err != nil || cur != "" {
		return err
	}
	return w.tx.PutAux(auxOwners, typ+"/"+id, []byte(o.Owner()))
}

// shown returns rec as the request may see it: without the secret elements of its
// type unless the requester owns it.
func (v *visibility) shown(rec *fhir.Record) (*fhir.Record, error) {
	paths := secretElements[rec.Type]
	if v.a == nil || len(paths) == 0 || rec.Deleted || len(rec.Body) == 0 {
		return rec, nil
	}
	if o, ok := v.a.(Owned); ok {
		owner, err := ownerOf(v.tx, rec.Type, rec.ID)
		if err != nil {
			return nil, err
		}
		if owner != "" && owner == o.Owner() {
			return rec, nil
		}
	}
	body, changed := redact(rec.Body, paths)
	if !changed {
		return rec, nil
	}
	out := *rec
	out.Body = body
	return &out, nil
}

// redact removes the elements at paths from a resource, and marks it REDACTED in
// meta.security (http://terminology.hl7.org/CodeSystem/v3-ObservationValue).
func redact(body []byte, paths [][]string) ([]byte, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body, false
	}
	changed := false
	for _, p := range paths {
		if removePath(m, p) {
			changed = true
		}
	}
	if !changed {
		return body, false
	}
	var meta map[string]any
	if raw, ok := m["meta"]; !ok || json.Unmarshal(raw, &meta) != nil {
		meta = map[string]any{}
	}
	sec, _ := meta["security"].([]any)
	meta["security"] = append(sec, map[string]string{
		"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "REDACTED",
		"display": "redacted: the element holds the owner's secret"})
	m["meta"], _ = json.Marshal(meta)
	out, err := json.Marshal(m)
	if err != nil {
		return body, false
	}
	return out, true
}

// removePath deletes the element at path from m; true when something was removed.
func removePath(m map[string]json.RawMessage, path []string) bool {
	raw, ok := m[path[0]]
	if !ok {
		return false
	}
	if len(path) == 1 {
		delete(m, path[0])
		return true
	}
	var inner map[string]json.RawMessage
	if json.Unmarshal(raw, &inner) != nil || !removePath(inner, path[1:]) {
		return false
	}
	m[path[0]], _ = json.Marshal(inner)
	return true
}

// showAll applies shown to records.
func (v *visibility) showAll(recs []*fhir.Record) ([]*fhir.Record, error) {
	for i, r := range recs {
		s, err := v.shown(r)
		if err != nil {
			return nil, err
		}
		recs[i] = s
	}
	return recs, nil
}

// Confiner is what a ConfinedSearcher asks of the request's access (it is
// fhir/search.Confiner): the ids of typ the request may see, nil for all, or a 403
// when it may not reach typ at all.
type Confiner interface {
	Visible(typ string) (map[string]bool, error)
}

// ConfinedSearcher is a Searcher that confines the inner searches of chains and _has,
// and each step of _include and _revinclude, by a Confiner: the same scopes and
// compartment as a direct search of the type reached.
type ConfinedSearcher interface {
	SearchConfined(tx fhir.Tx, typ string, q url.Values, strict bool, see Confiner) (*SearchResult, []fhir.Issue, error)
	IncludesConfined(tx fhir.Tx, typ string, q url.Values, matches []*fhir.Record, see Confiner) ([]*fhir.Record, error)
	MatchConfined(tx fhir.Tx, typ, query string, see Confiner) ([]string, error)
}

// matchAs resolves a client's conditional criteria (If-None-Exist, conditional
// update, patch and delete, conditional references in a transaction) as a search by
// that client would: chains and _has inside them confined, and only the matches it
// may see, so that criteria are no oracle (a conditional reference naming another
// patient's INS matches nothing). A nil Access is the server itself.
func (w *Writer) matchAs(a Access, typ, criteria string) ([]string, error) {
	if a == nil {
		return w.Match(typ, criteria)
	}
	vis := w.s.visibility(a, w.tx, "search-type")
	var ids []string
	var err error
	if cs, ok := w.s.Engine.(ConfinedSearcher); ok {
		ids, err = cs.MatchConfined(w.tx, typ, criteria, vis)
	} else {
		ids, err = w.Match(typ, criteria)
	}
	if err != nil {
		return nil, err
	}
	return vis.filter(typ, ids)
}

// Visible implements Confiner: a type the request may not search (or, for includes,
// read) is refused; otherwise its visible ids, nil for all.
func (v *visibility) Visible(typ string) (map[string]bool, error) {
	if v.a == nil {
		return nil, nil
	}
	if !v.a.Allows(v.interaction, typ) && !(v.interaction == "read" && v.a.Allows("search-type", typ)) {
		return nil, forbidden("", "the access token does not allow %s on %s, which the search reaches through a chain, _has or an include", v.interaction, typ)
	}
	return v.allowed(typ)
}

// search runs a search with its chains and _has confined to what vis may see.
func (s *Service) search(tx fhir.Tx, req *Request, vis *visibility) (*SearchResult, []fhir.Issue, error) {
	if cs, ok := s.Engine.(ConfinedSearcher); ok && req.Access != nil {
		return cs.SearchConfined(tx, req.Type, req.Query, req.Strict, vis)
	}
	return s.Engine.Search(tx, req.Type, req.Query, req.Strict)
}

// includes returns the includes of a page, walked only through what access may read,
// with secrets removed.
func (s *Service) includes(tx fhir.Tx, access Access, typ string, q url.Values, recs []*fhir.Record) ([]*fhir.Record, error) {
	vis := s.visibility(access, tx, "read")
	var incs []*fhir.Record
	var err error
	var see Confiner
	if access != nil {
		see = vis
	}
	if b, ok := s.Engine.(boundedIncluder); ok {
		// stops as soon as the includes pass the Includes limit
		incs, err = b.IncludesConfinedUpTo(tx, typ, q, recs, see, s.Limits.includes())
	} else if cs, ok := s.Engine.(ConfinedSearcher); ok && access != nil {
		incs, err = cs.IncludesConfined(tx, typ, q, recs, vis)
	} else {
		incs, err = s.Engine.Includes(tx, typ, q, recs)
	}
	if err != nil {
		return nil, err
	}
	if incs, err = vis.filterRecords(incs); err != nil {
		return nil, err
	}
	return vis.showAll(incs)
}

// AccessHook is an optional extension of a WriteHook: it checks, inside the write's
// transaction, that what a client wrote is within its grant (a Subscription of a
// patient-confined client must filter on its patients). The server's own writes
// (nil Access) are not checked.
type AccessHook interface {
	CheckAccess(w *Writer, a Access, rec *fhir.Record) error
}

// accessHooks runs the AccessHooks of the service on a client's written resource.
func (w *Writer) accessHooks(a Access, typ, id string) error {
	var rec *fhir.Record
	for _, h := range w.s.Hooks {
		ah, ok := h.(AccessHook)
		if !ok {
			continue
		}
		if rec == nil {
			var err error
			if rec, err = w.tx.Current(typ, id); err != nil {
				return err
			}
			if rec.Deleted {
				return nil
			}
		}
		if err := ah.CheckAccess(w, a, rec); err != nil {
			return err
		}
	}
	return nil
}

// shownResponse answers a read of rec as vis may see it.
func shownResponse(vis *visibility, rec *fhir.Record) (*Response, error) {
	shown, err := vis.shown(rec)
	if err != nil {
		return nil, err
	}
	return recordResponse(http.StatusOK, shown), nil
}

// OwnedTypes lists the types visible only to the client that wrote them and to
// system scopes (for the confinement table).
func OwnedTypes() []string {
	out := make([]string, 0, len(ownedTypes))
	for t := range ownedTypes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// SecretElements lists the elements of typ returned to its owner only, as dotted
// paths ("channel.header").
func SecretElements(typ string) []string {
	var out []string
	for _, p := range secretElements[typ] {
		out = append(out, strings.Join(p, "."))
	}
	return out
}

// RedactSecrets returns body without the secret elements of typ (a Subscription's
// channel.header…), marked REDACTED, for outputs that leave to readers who are not
// the resource's owner whoever asks: a bulk export's files.
func RedactSecrets(typ string, body []byte) []byte {
	paths := secretElements[typ]
	if len(paths) == 0 || len(body) == 0 {
		return body
	}
	out, _ := redact(body, paths)
	return out
}

// Confinable is an optional extension of Access telling, without reading the store,
// whether an interaction on typ is confined to some patients (one or several).
type Confinable interface {
	Confined(interaction, typ string) bool
}

// IsConfined reports whether a limits the interaction on typ to some patients: an
// operation whose answer spans patients (an event log, dead letters, a type-level
// export) must refuse such a client. A nil Access is the server itself.
func IsConfined(a Access, interaction, typ string) bool {
	if a == nil {
		return false
	}
	if c, ok := a.(Confinable); ok {
		return c.Confined(interaction, typ)
	}
	return a.Patient(interaction, typ) != ""
}
