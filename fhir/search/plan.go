package search

import (
	"bytes"
	"errors"
	"sort"

	"github.com/aitgw/aitgw/fhir"
)

// Query planning. The clauses of a search are ANDed. Evaluating each in full and
// intersecting costs the size of the largest clause: Observation?subject=x&code=y
// reads every Observation with code y, however few x has, and grows with the store.
// The planner instead:
//
//  1. estimates each plain clause (a parameter's values: no chain, _has, :missing or
//     :not) by counting its index rows, a bounded probe of the index itself in
//     growing rounds (probeRounds): below a round's limit the count is exact, and
//     the probe has found the clause's matches, which are kept rather than scanned
//     again;
//  2. evaluates the most selective clause first;
//  3. checks each further plain clause on the candidates' own index entries (one
//     direct read per candidate: the store's list of a resource's entries) when the
//     candidates are fewer than that clause's estimate and at most checkLimit;
//     otherwise evaluates it in full and intersects.
//
// A selective query thus costs its smallest clause plus one read per candidate, not
// the size of the store. A _has is estimated by its inner search (it matches at most
// as many resources); chains are unknown. Both are evaluated in full (their inner
// search is itself planned), in estimate order, and only while candidates remain.

// probeLimit bounds the index rows read to estimate a clause.
const probeLimit = 512

// checkLimit bounds the candidates checked one by one rather than by a scan.
const checkLimit = 4096

// plainClause reports whether c matches on the resource's own index keys of one
// parameter, so that a candidate can be checked on its entries.
func plainClause(c *Clause) bool {
	return c.Has == nil && c.Chain == nil && c.Missing == nil && c.Modifier != "not" && len(c.Values) > 0
}

// estimate counts the index rows of a plain clause, stopping past limit. When it
// counted them all, ids are the clause's matches, as clauseIDs finds them: the
// clause is then not scanned again.
func (r *Registry) estimate(tx fhir.Tx, typ string, c *Clause, limit int) (n int, ids idSet, err error) {
	ids = idSet{}
	for _, v := range c.Values {
		rows, complete, err := r.scanIDsUpTo(tx, typ, c.Param.Code, v.scans, ids, limit-n)
		n += rows
		if err != nil || !complete {
			return n, nil, err
		}
	}
	return n, ids, nil
}

// probeRounds are the growing limits of the estimates: every clause is counted up to
// the first limit, then those not done up to the next, and so on, stopping at the
// first round where one clause is counted in full: the others are known to be larger,
// so a selective query does not pay for counting its common clauses.
var probeRounds = []int{16, 128, probeLimit}

// estimateAll sets the estimate of each clause of plan that can be estimated.
func (r *Registry) estimateAll(tx fhir.Tx, typ string, plan []plannedClause) error {
	for _, limit := range probeRounds {
		done := false
		for i := range plan {
			c, on, own := plan[i].c, typ, true
			if c.Has != nil && plainClause(c.Has.Clause) {
				// a _has matches at most as many resources as its inner search
				c, on, own = c.Has.Clause, c.Has.Type, false
			} else if !plainClause(c) {
				continue
			}
			if plan[i].est <= probeLimit {
				continue // counted in full in an earlier round
			}
			n, ids, err := r.estimate(tx, on, c, limit)
			if err != nil {
				return err
			}
			if n <= limit {
				plan[i].est, done = n, true
				if own {
					plan[i].ids = ids
				}
			} else {
				plan[i].est = probeLimit + 1 // more than limit: larger than those done
			}
		}
		if done {
			return nil
		}
	}
	return nil
}

// plannedClause is a clause with its estimated size (probeLimit+1: large or unknown)
// and, when the estimate read all of its rows, its matches.
type plannedClause struct {
	c   *Clause
	est int
	ids idSet
}

// matchClauses returns the ids of q.Type matching every clause of q (nil when q has
// none), in the order the planner chooses.
func (r *Registry) matchClauses(tx fhir.Tx, q *Query) (idSet, error) {
	plan := make([]plannedClause, len(q.Clauses))
	for i, c := range q.Clauses {
		plan[i] = plannedClause{c: c, est: probeLimit + 1}
	}
	if len(plan) > 1 {
		if err := r.estimateAll(tx, q.Type, plan); err != nil {
			return nil, err
		}
	}
	// by estimate; at equal estimates plain clauses first (chains are unknown)
	sort.SliceStable(plan, func(a, b int) bool {
		if plan[a].est != plan[b].est {
			return plan[a].est < plan[b].est
		}
		return plainClause(plan[a].c) && !plainClause(plan[b].c)
	})
	var ids idSet
	for _, p := range plan {
		if ids != nil && p.ids == nil && plainClause(p.c) && len(ids) <= checkLimit && len(ids) < p.est {
			if err := r.keepMatching(tx, q.Type, p.c, ids); err != nil {
				return nil, err
			}
		} else {
			m := p.ids // found by the estimate
			if m == nil {
				var err error
				if m, err = r.clauseIDs(tx, q.Type, p.c, q.Confine); err != nil {
					return nil, err
				}
			}
			if ids == nil {
				ids = m
			} else {
				for id := range ids {
					if _, ok := m[id]; !ok {
						delete(ids, id)
					}
				}
			}
		}
		if len(ids) == 0 {
			break
		}
	}
	return ids, nil
}

// keepMatching removes from ids those whose index entries do not match the plain
// clause c: the same test as a scan of c's ranges, made on each candidate's entries.
func (r *Registry) keepMatching(tx fhir.Tx, typ string, c *Clause, ids idSet) error {
	for id := range ids {
		entries, err := tx.Index(typ, id)
		if err != nil && !errors.Is(err, fhir.ErrNotFound) {
			return err
		}
		ok, err := r.entriesMatch(tx, typ, id, c, entries)
		if err != nil {
			return err
		}
		if !ok {
			delete(ids, id)
		}
	}
	return nil
}

// entriesMatch reports whether one of entries (those of typ/id) falls in a scan of
// c, as scanIDs would find it: a capped key, or a scan past the cap, is checked on
// the resource's whole values.
func (r *Registry) entriesMatch(tx fhir.Tx, typ, id string, c *Clause, entries []fhir.IndexEntry) (bool, error) {
	param, stored := c.Param.Code, r.storedAs(typ, c.Param.Code)
	for _, v := range c.Values {
		for _, s := range v.scans {
			from, to, widened := capScan(s)
			for _, e := range entries {
				if !holds(stored, e.Param) || (from != nil && bytes.Compare(e.Key, from) < 0) || (to != nil && bytes.Compare(e.Key, to) >= 0) {
					continue
				}
				if widened || isCapped(e.Key) {
					ok, err := r.matchesWhole(tx, typ, param, id, s)
					if err != nil || ok {
						return ok, err
					}
					continue
				}
				if s.keep == nil || s.keep(e.Key) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}
