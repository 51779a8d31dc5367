package search

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// Result is the outcome of a search: the matching ids in result order, their count,
// and the resources brought in by _include and _revinclude.
type Result struct {
	// IDs are the matches, ordered by the query's _sort keys and then by id; without
	// _sort, by id (stable and cheap: the store scans ids in order). Paging is done by
	// the caller on this slice.
	IDs   []string
	Total int
	// Included holds the _include/_revinclude resources, deduplicated and never one
	// of the matches.
	Included []*fhir.Record
}

// maxIterate bounds :iterate rounds, so that a reference cycle ends.
const maxIterate = 4

// idSet is a set of resource ids.
type idSet map[string]struct{}

// Execute runs q on tx.
func (r *Registry) Execute(tx fhir.Tx, q *Query) (*Result, error) {
	ids, err := r.matchClauses(tx, q) // plan.go: most selective clause first
	if err != nil {
		return nil, err
	}
	if ids == nil {
		all, err := allIDs(tx, q.Type)
		if err != nil {
			return nil, err
		}
		ids = all
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	if err := r.sortIDs(tx, q, list); err != nil {
		return nil, err
	}
	res := &Result{IDs: list, Total: len(list)}
	if len(q.Include)+len(q.RevInclude) > 0 && q.Summary != "count" {
		inc, err := r.includes(tx, q, list)
		if err != nil {
			return nil, err
		}
		res.Included = inc
	}
	return res, nil
}

// Match returns the ids of typ matching rawQuery (the part after '?'), for
// conditional create, update, delete and conditional references. It is strict:
// an unknown parameter must not widen a conditional delete to everything, and a query
// without criteria is refused for the same reason.
func (r *Registry) Match(tx fhir.Tx, typ string, rawQuery string) ([]string, error) {
	return r.match(tx, typ, rawQuery, nil)
}

// match is Match with its chains and _has confined by see (nil: unconfined).
func (r *Registry) match(tx fhir.Tx, typ string, rawQuery string, see Confiner) ([]string, error) {
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "", "malformed search criteria: %v", err)
	}
	q, _, ferr := r.ParseQuery(typ, v, true)
	if ferr != nil {
		return nil, ferr
	}
	if len(q.Clauses) == 0 {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "", "conditional operation on %s without search criteria", typ)
	}
	q.Confine = see
	res, err := r.Execute(tx, q)
	if err != nil {
		return nil, err
	}
	return res.IDs, nil
}

// allIDs returns the ids of every current resource of typ.
func allIDs(tx fhir.Tx, typ string) (idSet, error) {
	ids := idSet{}
	err := tx.ScanType(typ, func(rec *fhir.Record) bool {
		ids[rec.ID] = struct{}{}
		return true
	})
	return ids, err
}

// scanIDs returns the ids with a key of param in any of scans. A key that was capped
// (capKey), or a scan whose bounds pass the capped length, yields candidates that are
// checked against the resource's whole values, so that a long string is matched
// exactly.
func (r *Registry) scanIDs(tx fhir.Tx, typ, param string, scans []scan, into idSet) error {
	_, _, err := r.scanIDsUpTo(tx, typ, param, scans, into, -1)
	return err
}

// scanIDsUpTo is scanIDs reading at most limit index rows (no bound when negative):
// it returns the rows read and whether that was all of them (into is then complete).
func (r *Registry) scanIDsUpTo(tx fhir.Tx, typ, param string, scans []scan, into idSet, limit int) (rows int, complete bool, err error) {
	stored := r.storedAs(typ, param)
	for _, s := range scans {
		from, to, widened := capScan(s)
		var check []string
		for _, sp := range stored {
			err := tx.ScanIndex(typ, sp, from, to, func(k []byte, id string) bool {
				if rows++; limit >= 0 && rows > limit {
					return false
				}
				switch {
				case widened || isCapped(k):
					check = append(check, id)
				case s.keep == nil || s.keep(k):
					into[id] = struct{}{}
				}
				return true
			})
			if err != nil {
				return rows, false, err
			}
			if limit >= 0 && rows > limit {
				return rows, false, nil
			}
		}
		for _, id := range check {
			if _, done := into[id]; done {
				continue
			}
			ok, err := r.matchesWhole(tx, typ, param, id, s)
			if err != nil {
				return rows, false, err
			}
			if ok {
				into[id] = struct{}{}
			}
		}
	}
	return rows, true, nil
}

// clauseIDs returns the ids of typ matching one clause. see confines the inner
// searches of chains and _has (nil: unconfined): a chain target type the requester
// may not search matches nothing, and a chain none of whose target types it may search
// is refused, as is a _has on such a type.
func (r *Registry) clauseIDs(tx fhir.Tx, typ string, c *Clause, see Confiner) (idSet, error) {
	switch {
	case c.Has != nil:
		return r.hasIDs(tx, typ, c.Has, see)
	case c.Chain != nil:
		ids := idSet{}
		var refusal error
		reached := false
		for _, ct := range c.Chain {
			seen, err := visibleIDs(see, ct.Type)
			if refused(err) {
				refusal = err
				continue
			}
			if err != nil {
				return nil, err
			}
			reached = true
			targets, err := r.clauseIDs(tx, ct.Type, ct.Clause, see)
			if err != nil {
				return nil, err
			}
			keepSeen(targets, seen)
			for tid := range targets {
				if err := r.scanIDs(tx, typ, c.Param.Code, []scan{exactScan(key(tagRef, ct.Type+"/"+tid))}, ids); err != nil {
					return nil, err
				}
			}
		}
		if !reached && refusal != nil {
			return nil, atParam(refusal, c.Name)
		}
		return ids, nil
	case c.Missing != nil:
		have := idSet{}
		if err := r.scanIDs(tx, typ, c.Param.Code, []scan{{}}, have); err != nil {
			return nil, err
		}
		if !*c.Missing {
			return have, nil
		}
		return complement(tx, typ, have)
	}
	ids := idSet{}
	for _, v := range c.Values {
		if err := r.scanIDs(tx, typ, c.Param.Code, v.scans, ids); err != nil {
			return nil, err
		}
	}
	if c.Modifier == "not" {
		return complement(tx, typ, ids)
	}
	return ids, nil
}

// complement returns the ids of typ not in ids.
func complement(tx fhir.Tx, typ string, ids idSet) (idSet, error) {
	all, err := allIDs(tx, typ)
	if err != nil {
		return nil, err
	}
	for id := range ids {
		delete(all, id)
	}
	return all, nil
}

// hasIDs answers _has: the ids of typ referenced, through h.Param, by resources of
// h.Type matching h.Clause, among those see lets the requester see.
func (r *Registry) hasIDs(tx fhir.Tx, typ string, h *HasClause, see Confiner) (idSet, error) {
	seen, err := visibleIDs(see, h.Type)
	if err != nil {
		return nil, atParam(err, "_has:"+h.Type+":"+h.Param.Code)
	}
	sources, err := r.clauseIDs(tx, h.Type, h.Clause, see)
	if err != nil {
		return nil, err
	}
	keepSeen(sources, seen)
	ids := idSet{}
	for sid := range sources {
		entries, err := tx.Index(h.Type, sid)
		if err != nil && !errors.Is(err, fhir.ErrNotFound) {
			return nil, err
		}
		for _, e := range entries {
			if e.Param != h.Param.Code || len(e.Key) < 2 || e.Key[0] != tagRef {
				continue
			}
			if t, id, ok := strings.Cut(string(e.Key[1:len(e.Key)-1]), "/"); ok && t == typ && !strings.Contains(id, "/") {
				ids[id] = struct{}{}
			}
		}
	}
	return ids, nil
}

// sortIDs orders ids by q.Sort, then by id. Resources without a value for a key sort
// after those with one, whatever the direction.
func (r *Registry) sortIDs(tx fhir.Tx, q *Query, ids []string) error {
	sort.Strings(ids)
	if len(q.Sort) == 0 {
		return nil
	}
	vals := make(map[string][][]byte, len(ids))
	stored := make([][]string, len(q.Sort))
	for i, sk := range q.Sort {
		if sk.Param != nil {
			stored[i] = r.storedAs(q.Type, sk.Code)
		}
	}
	for _, id := range ids {
		entries, err := tx.Index(q.Type, id)
		if err != nil && !errors.Is(err, fhir.ErrNotFound) {
			return err
		}
		row := make([][]byte, len(q.Sort))
		for i, sk := range q.Sort {
			if sk.Param == nil {
				row[i] = []byte(id)
				continue
			}
			row[i] = sortValue(sk, stored[i], entries)
		}
		vals[id] = row
	}
	sort.SliceStable(ids, func(a, b int) bool {
		va, vb := vals[ids[a]], vals[ids[b]]
		for i, sk := range q.Sort {
			x, y := va[i], vb[i]
			switch {
			case x == nil && y == nil:
				continue
			case x == nil:
				return false
			case y == nil:
				return true
			}
			c := bytes.Compare(x, y)
			if c == 0 {
				continue
			}
			return (c < 0) != sk.Descending
		}
		return false
	})
	return nil
}

// sortTags is the key form a parameter type sorts by (ascending; dates sort by their
// end when descending).
var sortTags = map[string]byte{"string": tagPrefix, "token": tagCode, "reference": tagRef,
	"uri": tagURI, "date": tagLow, "number": tagNumber, "quantity": tagQty}

// sortValue is the smallest (ascending) or largest (descending) key of the sort form
// of sk among entries of the parameters stored (sk's own, or its sources), nil when
// the resource has none.
func sortValue(sk SortKey, stored []string, entries []fhir.IndexEntry) []byte {
	tag := sortTags[sk.Param.Type]
	if sk.Param.Type == "date" && sk.Descending {
		tag = tagHigh
	}
	var best []byte
	for _, e := range entries {
		if !holds(stored, e.Param) || len(e.Key) == 0 || e.Key[0] != tag {
			continue
		}
		if best == nil || (bytes.Compare(e.Key, best) < 0) != sk.Descending {
			best = e.Key
		}
	}
	return best
}
