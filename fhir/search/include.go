package search

import (
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// ref names one resource.
type ref struct{ typ, id string }

// includes resolves q.Include and q.RevInclude for the matches ids. Includes marked
// :iterate are applied again to what was included, up to maxIterate rounds. With
// q.Confine set, a resource the requester may not see is neither included nor
// iterated from, so that the walk reveals nothing about it.
func (r *Registry) includes(tx fhir.Tx, q *Query, ids []string) ([]*fhir.Record, error) {
	done := map[ref]bool{}
	for _, id := range ids {
		done[ref{q.Type, id}] = true
	}
	var out []*fhir.Record
	frontier := make([]ref, 0, len(ids))
	for _, id := range ids {
		frontier = append(frontier, ref{q.Type, id})
	}
	for round := 0; len(frontier) > 0 && round <= maxIterate; round++ {
		var next []ref
		add := func(t ref) error {
			if done[t] {
				return nil
			}
			done[t] = true
			if seen, err := visibleIDs(q.Confine, t.typ); refused(err) || (err == nil && seen != nil && !seen[t.id]) {
				return nil // outside what the requester may see: neither included nor walked through
			} else if err != nil {
				return err
			}
			rec, err := tx.Current(t.typ, t.id)
			if errors.Is(err, fhir.ErrNotFound) || (err == nil && rec.Deleted) {
				return nil // a dangling reference includes nothing
			}
			if err != nil {
				return err
			}
			out = append(out, rec)
			next = append(next, t)
			if q.MaxIncluded > 0 && len(out) > q.MaxIncluded {
				return fhir.Errorf(http.StatusUnprocessableEntity, "too-costly", "_include",
					"the includes of this page number more than the %d allowed: ask for a smaller _count", q.MaxIncluded)
			}
			return nil
		}
		for _, src := range frontier {
			for _, inc := range q.Include {
				if src.typ != inc.Type || (round > 0 && !inc.Iterate) {
					continue
				}
				targets, err := r.referencesOf(tx, src, inc)
				if err != nil {
					return nil, err
				}
				for _, t := range targets {
					if err := add(t); err != nil {
						return nil, err
					}
				}
			}
			for _, inc := range q.RevInclude {
				if round > 0 && !inc.Iterate {
					continue
				}
				sources, err := r.referrers(tx, src, inc)
				if err != nil {
					return nil, err
				}
				for _, s := range sources {
					if err := add(s); err != nil {
						return nil, err
					}
				}
			}
		}
		frontier = next
	}
	return out, nil
}

// referencesOf returns the relative references made by src through inc.Param (every
// reference parameter for "*"), restricted to inc.Target.
func (r *Registry) referencesOf(tx fhir.Tx, src ref, inc Include) ([]ref, error) {
	entries, err := tx.Index(src.typ, src.id)
	if err != nil && !errors.Is(err, fhir.ErrNotFound) {
		return nil, err
	}
	var out []ref
	for _, e := range entries {
		if len(e.Key) < 2 || e.Key[0] != tagRef {
			continue
		}
		if inc.Param != nil && e.Param != inc.Param.Code {
			continue
		}
		if inc.Param == nil {
			if p := r.Lookup(src.typ, e.Param); p == nil || p.Type != "reference" {
				continue
			}
		}
		t, id, ok := strings.Cut(string(e.Key[1:len(e.Key)-1]), "/")
		if !ok || strings.Contains(id, "/") || !fhir.IsResourceType(t) || (inc.Target != "" && t != inc.Target) {
			continue
		}
		out = append(out, ref{t, id})
	}
	return out, nil
}

// referrers returns the resources of inc.Type that reference target through
// inc.Param (every reference parameter of inc.Type for "*").
func (r *Registry) referrers(tx fhir.Tx, target ref, inc Include) ([]ref, error) {
	if inc.Target != "" && inc.Target != target.typ {
		return nil, nil
	}
	var params []*Param
	if inc.Param != nil {
		params = []*Param{inc.Param}
	} else {
		for _, p := range r.Params(inc.Type) {
			if p.Type == "reference" && p.Expression != "" {
				params = append(params, p)
			}
		}
	}
	var out []ref
	k := key(tagRef, target.typ+"/"+target.id)
	for _, p := range params {
		ids := idSet{}
		if err := r.scanIDs(tx, inc.Type, p.Code, []scan{exactScan(k)}, ids); err != nil {
			return nil, err
		}
		for id := range ids {
			out = append(out, ref{inc.Type, id})
		}
	}
	sortRefs(out)
	return out, nil
}

// sortRefs orders refs by type then id, so that results are deterministic.
func sortRefs(rs []ref) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].typ != rs[j].typ {
			return rs[i].typ < rs[j].typ
		}
		return rs[i].id < rs[j].id
	})
}
