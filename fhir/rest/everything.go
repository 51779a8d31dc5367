package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Compartment names the search parameters that link a resource type to a Patient in
// the R4 patient compartment (nil: the type is outside it). server/smart has the
// table; it is passed in so that fhir/rest keeps no copy of it.
type Compartment func(typ string) []string

// everythingParams are the parameters of Patient/$everything (R4) plus the paging
// cursor the server puts in its next links.
var everythingParams = map[string]bool{
	"start": true, "end": true, "_since": true, "_type": true, "_count": true, "_cursor": true,
	"_format": true, "_pretty": true,
}

// evRow is one resource of an $everything result, pinned to the version it had at the
// snapshot time.
type evRow struct {
	patient string // the patient whose record it belongs to (type-level paging)
	rec     *fhir.Record
	mode    string // match (compartment) or include (referenced)
}

// evQuery is a parsed $everything request.
type evQuery struct {
	at         time.Time // snapshot: versions updated strictly before at
	since      time.Time
	start, end string
	types      map[string]bool // nil: all
	count      int
	// after is the cursor position: the last row already sent (patient, type, id).
	after [3]string
}

// Everything answers Patient/{id}/$everything and, for unconfined (system) clients,
// Patient/$everything: the patient compartment as of a snapshot time, plus the
// resources it references (Practitioner, Organization, Medication, Device…), paged.
//
// Paging is stateless, so that reading never writes: the next link carries the
// snapshot time and the position (type, id) of the last entry sent. Every page
// recomputes the set as it was at the snapshot time — resources created after it are
// left out, those updated or deleted after it are shown as they were — so that a
// client paging to the end while others write sees each resource exactly once. (A
// write whose timestamp precedes the snapshot but which commits after the first page
// is read may still show on a later page, never twice: the cursor is a position, not
// an offset.)
func (s *Service) Everything(ctx context.Context, req *Request, comp Compartment) (*Response, error) {
	if req.ID == "" && req.Access != nil && req.Access.Patient("operation", "Patient") != "" {
		return nil, forbidden("", "Patient/$everything without a patient id is for system (backend services) clients only: a patient-context token asks for Patient/{id}/$everything")
	}
	if req.ID != "" && req.Access != nil {
		if p := req.Access.Patient("operation", "Patient"); p != "" && p != req.ID {
			return nil, forbidden("Patient.id", "a patient-context token reaches only its own patient's $everything")
		}
	}
	q, err := s.parseEverything(req.Query)
	if err != nil {
		return nil, err
	}
	b := fhir.NewBundle("searchset")
	var next string
	_, err = s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		var rows []evRow
		if req.ID != "" {
			rows, err = s.everythingOf(tx, req.Access, comp, req.ID, q)
			if err != nil {
				return nil, err
			}
			n := len(rows)
			b.Total = &n
			rows = afterCursor(rows, q.after)
		} else if rows, err = s.everythingAll(tx, req.Access, comp, q); err != nil {
			return nil, err
		}
		if q.count == 0 { // _count=0: the total alone
			rows = nil
		} else if len(rows) > q.count {
			rows = rows[:q.count]
			last := rows[len(rows)-1]
			next = encodeCursor(q.at, [3]string{last.patient, last.rec.Type, last.rec.ID})
		}
		for _, r := range rows {
			b.Entry = append(b.Entry, fhir.BundleEntry{
				FullURL:  fmt.Sprintf("%s/%s/%s", s.base(), r.rec.Type, r.rec.ID),
				Resource: r.rec.Body,
				Search:   &fhir.EntrySearch{Mode: r.mode},
			})
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	self := s.base() + "/Patient/"
	if req.ID != "" {
		self += req.ID + "/"
	}
	self += "$everything"
	link := func(cursor string) string {
		v := url.Values{}
		for k, vs := range req.Query {
			if k != "_cursor" && everythingParams[k] {
				v[k] = vs
			}
		}
		if cursor != "" {
			v.Set("_cursor", cursor)
		}
		if e := v.Encode(); e != "" {
			return self + "?" + e
		}
		return self
	}
	b.Link = []fhir.BundleLink{{Relation: "self", URL: link(req.Query.Get("_cursor"))}}
	if next != "" {
		b.Link = append(b.Link, fhir.BundleLink{Relation: "next", URL: link(next)})
	}
	b.ID = NewID()
	b.Meta = &fhir.BundleMeta{LastUpdated: s.now().Format(time.RFC3339Nano)}
	return &Response{Status: http.StatusOK, Body: b.JSON()}, nil
}

// parseEverything reads the operation's parameters; anything malformed is a 400.
func (s *Service) parseEverything(qv url.Values) (*evQuery, error) {
	q := &evQuery{at: s.now()}
	for k := range qv {
		if !everythingParams[k] {
			return nil, badRequest("not-supported", k, "$everything has no parameter %q (it takes start, end, _since, _type, _count)", k)
		}
	}
	q.count = s.PageSize
	if q.count <= 0 {
		q.count = 20
	}
	if v := qv.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, badRequest("value", "_count", "_count must be a non-negative integer, not %q", v)
		}
		limit := s.MaxPageSize
		if limit <= 0 {
			limit = 1000
		}
		q.count = min(n, limit)
	}
	var err error
	if v := qv.Get("_since"); v != "" {
		if q.since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return nil, badRequest("value", "_since", "_since must be an instant (e.g. 2026-01-31T12:00:00Z), not %q", v)
		}
	}
	for _, p := range []string{"start", "end"} {
		v := qv.Get(p)
		if v == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", v[:min(len(v), 10)]); err != nil || (len(v) > 10 && !validDateTime(v)) {
			return nil, badRequest("value", p, "%s must be a date (YYYY-MM-DD) or dateTime, not %q", p, v)
		}
		if p == "start" {
			q.start = v
		} else {
			q.end = v
		}
	}
	if v := qv.Get("_type"); v != "" {
		q.types = map[string]bool{}
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if !fhir.IsResourceType(t) {
				return nil, badRequest("not-supported", "_type", "_type names %q, which is not an R4 resource type", t)
			}
			q.types[t] = true
		}
	}
	if c := qv.Get("_cursor"); c != "" {
		at, after, ok := decodeCursor(c)
		if !ok {
			return nil, badRequest("value", "_cursor", "the paging cursor is malformed: follow the next link as given")
		}
		q.at, q.after = at, after
	}
	return q, nil
}

func validDateTime(v string) bool {
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

// everythingOf computes one patient's $everything as of q.at, sorted by type and id.
func (s *Service) everythingOf(tx fhir.Tx, a Access, comp Compartment, patient string, q *evQuery) ([]evRow, error) {
	pat, err := asOf(tx, "Patient", patient, q.at)
	if err != nil {
		return nil, err
	}
	if pat == nil {
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "Patient.id", "Patient/%s is not known", patient)
	}
	vis := s.visibility(a, tx, "search-type")
	if ok, err := vis.sees("Patient", patient); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, forbidden("Patient.id", "Patient/%s is outside what the access token may reach", patient)
	}
	members := map[[2]string]bool{{"Patient", patient}: true}
	target := "Patient/" + patient
	for _, typ := range fhir.ResourceTypes() {
		params := comp(typ)
		if params == nil || typ == "Patient" {
			continue
		}
		if a != nil && !a.Allows("search-type", typ) && !a.Allows("read", typ) {
			continue // not granted (the audit trail needs its own scope): not even looked up
		}
		for _, p := range params {
			if strings.HasPrefix(p, "_") || p == "link" {
				continue
			}
			ids, err := s.Engine.Match(tx, typ, url.Values{p: {target}}.Encode())
			if err != nil {
				continue // a parameter this server does not index
			}
			for _, id := range ids {
				members[[2]string{typ, id}] = true
			}
		}
	}
	// what changed since the snapshot: judge those by the version they had then
	var changed [][2]string
	err = tx.History(fhir.HistoryFilter{Since: q.at}, func(r *fhir.Record) bool {
		if comp(r.Type) != nil {
			changed = append(changed, [2]string{r.Type, r.ID})
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	for _, k := range changed {
		old, err := asOf(tx, k[0], k[1], q.at)
		if err != nil {
			return nil, err
		}
		members[k] = old != nil && (k == [2]string{"Patient", patient} || references(old.Body, target))
	}
	var rows []evRow
	refs := map[[2]string]bool{}
	dated := map[string]map[string]bool{}
	for k, in := range members {
		if !in {
			continue
		}
		if ok, err := vis.sees(k[0], k[1]); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		rec, err := asOf(tx, k[0], k[1], q.at)
		if err != nil || rec == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		if !q.since.IsZero() && rec.LastUpdated.Before(q.since) {
			continue
		}
		if ok, err := s.inCarePeriod(tx, rec, q, dated); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		if q.types == nil || q.types[k[0]] {
			rows = append(rows, evRow{patient: patient, rec: rec, mode: "match"})
		}
		eachReference(rec.Body, func(typ, id string) {
			if !members[[2]string{typ, id}] {
				refs[[2]string{typ, id}] = true
			}
		})
	}
	rows = append(rows, s.referenced(tx, a, refs, patient, q)...)
	sort.Slice(rows, func(i, j int) bool { return rowKey(rows[i]) < rowKey(rows[j]) })
	return rows, nil
}

// referenced returns the resources the compartment references (two levels deep: a
// PractitionerRole's Practitioner and Organization), as of the snapshot. A resource
// that references another patient is never included: what is shown of one patient
// must not carry another's data.
func (s *Service) referenced(tx fhir.Tx, a Access, refs map[[2]string]bool, patient string, q *evQuery) []evRow {
	var rows []evRow
	vis := s.visibility(a, tx, "read")
	seen := map[[2]string]bool{}
	for depth := 0; depth < 2 && len(refs) > 0; depth++ {
		nextRefs := map[[2]string]bool{}
		for k := range refs {
			if seen[k] || k[0] == "Patient" {
				continue
			}
			seen[k] = true
			rec, err := asOf(tx, k[0], k[1], q.at)
			if err != nil || rec == nil {
				continue // a dangling reference: nothing to include
			}
			if ok, err := vis.sees(k[0], k[1]); err != nil || !ok {
				continue
			}
			other := false
			eachReference(rec.Body, func(typ, id string) {
				if typ == "Patient" && id != patient {
					other = true
				} else if typ != "Patient" {
					nextRefs[[2]string{typ, id}] = true
				}
			})
			if other || (q.types != nil && !q.types[k[0]]) {
				continue
			}
			rows = append(rows, evRow{patient: patient, rec: rec, mode: "include"})
		}
		refs = nextRefs
	}
	return rows
}

// inCarePeriod applies start and end to the resource's clinical date, through its
// "date" search parameter; resources of types without one are kept, as the
// specification allows.
func (s *Service) inCarePeriod(tx fhir.Tx, rec *fhir.Record, q *evQuery, cache map[string]map[string]bool) (bool, error) {
	if q.start == "" && q.end == "" {
		return true, nil
	}
	set, ok := cache[rec.Type]
	if !ok {
		v := url.Values{}
		if q.start != "" {
			v.Add("date", "ge"+q.start)
		}
		if q.end != "" {
			v.Add("date", "le"+q.end)
		}
		ids, err := s.Engine.Match(tx, rec.Type, v.Encode())
		if err == nil {
			set = map[string]bool{}
			for _, id := range ids {
				set[id] = true
			}
		} // else: the type has no date parameter
		cache[rec.Type] = set
	}
	return set == nil || set[rec.ID], nil
}

// everythingAll pages through every patient, in id order, for a system client.
func (s *Service) everythingAll(tx fhir.Tx, a Access, comp Compartment, q *evQuery) ([]evRow, error) {
	var patients []string
	err := tx.ScanType("Patient", func(r *fhir.Record) bool {
		if r.ID >= q.after[0] {
			patients = append(patients, r.ID)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	var out []evRow
	for _, p := range patients {
		rows, err := s.everythingOf(tx, a, comp, p, q)
		if fe := fhir.AsError(err); err != nil && (fe.Status == http.StatusNotFound || fe.Status == http.StatusForbidden) {
			continue // created after the snapshot, or outside the grant
		} else if err != nil {
			return nil, err
		}
		out = append(out, afterCursor(rows, q.after)...)
		if len(out) > q.count {
			break
		}
	}
	return out, nil
}

// asOf returns the version of typ/id current just before at, or nil when it did not
// exist then or was deleted.
func asOf(tx fhir.Tx, typ, id string, at time.Time) (*fhir.Record, error) {
	cur, err := tx.Current(typ, id)
	if errors.Is(err, fhir.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if cur.LastUpdated.Before(at) {
		if cur.Deleted {
			return nil, nil
		}
		return cur, nil
	}
	var old *fhir.Record
	err = tx.History(fhir.HistoryFilter{Type: typ, ID: id, At: at}, func(r *fhir.Record) bool {
		old = r
		return false
	})
	if err != nil || old == nil || old.Deleted {
		return nil, err
	}
	return old, nil
}
