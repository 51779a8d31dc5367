package search

import (
	"net/url"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Engine is the search registry as fhir/rest uses it (rest.Searcher): indexing on
// write, conditional matching, searches, the includes of a page, and _summary /
// _elements rendering.
type Engine struct {
	reg     *Registry
	targets referenceTargets
}

// NewEngine returns the engine of reg.
func NewEngine(reg *Registry) *Engine { return &Engine{reg: reg} }

var _ rest.Searcher = (*Engine)(nil)

// Index computes the index entries of a resource.
func (s *Engine) Index(typ string, body []byte) ([]fhir.IndexEntry, error) {
	return s.reg.Index(typ, body)
}

// StampEntries computes the _id and _lastUpdated entries of a version.
func (s *Engine) StampEntries(id, lastUpdated string) []fhir.IndexEntry {
	return s.reg.StampEntries(id, lastUpdated)
}

// Match returns the ids matching a conditional query.
func (s *Engine) Match(tx fhir.Tx, typ, query string) ([]string, error) {
	return s.reg.Match(tx, typ, query)
}

// Search parses and runs a search.
func (s *Engine) Search(tx fhir.Tx, typ string, q url.Values, strict bool) (*rest.SearchResult, []fhir.Issue, error) {
	query, warnings, ferr := s.reg.ParseQuery(typ, q, strict)
	if ferr != nil {
		return nil, nil, ferr
	}
	// the includes are those of each page (Includes), not of every match
	query.Include, query.RevInclude = nil, nil
	res, err := s.reg.Execute(tx, query)
	if err != nil {
		return nil, nil, err
	}
	return &rest.SearchResult{IDs: res.IDs, CountOnly: q.Get("_summary") == "count", TotalMode: q.Get("_total")}, warnings, nil
}

// Includes runs the query again restricted to the page's matches (by _id), so that
// each page carries the _include/_revinclude resources of its own matches.
func (s *Engine) Includes(tx fhir.Tx, typ string, q url.Values, matches []*fhir.Record) ([]*fhir.Record, error) {
	return s.IncludesUpTo(tx, typ, q, matches, 0)
}

// IncludesUpTo is Includes stopping with a 422 once more than limit resources are
// included (0: no limit), before reading the rest.
func (s *Engine) IncludesUpTo(tx fhir.Tx, typ string, q url.Values, matches []*fhir.Record, limit int) ([]*fhir.Record, error) {
	if len(matches) == 0 || !hasIncludes(q) {
		return nil, nil
	}
	query, err := s.includeQuery(typ, q, matches)
	if err != nil {
		return nil, err
	}
	query.MaxIncluded = limit
	res, err := s.reg.Execute(tx, query)
	if err != nil {
		return nil, err
	}
	return res.Included, nil
}

// includeQuery is q's _include and _revinclude restricted to the page's matches.
func (s *Engine) includeQuery(typ string, q url.Values, matches []*fhir.Record) (*Query, error) {
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = m.ID
	}
	page := url.Values{}
	for k, v := range q {
		if strings.HasPrefix(k, "_include") || strings.HasPrefix(k, "_revinclude") {
			page[k] = v
		}
	}
	page.Set("_id", strings.Join(ids, ","))
	query, _, ferr := s.reg.ParseQuery(typ, page, false)
	if ferr != nil {
		return nil, ferr
	}
	return query, nil
}

func hasIncludes(q url.Values) bool {
	for k := range q {
		if strings.HasPrefix(k, "_include") || strings.HasPrefix(k, "_revinclude") {
			return true
		}
	}
	return false
}

// Render applies _summary and _elements to a match.
func (s *Engine) Render(body []byte, q url.Values) []byte {
	if m := q.Get("_summary"); m != "" && m != "false" && m != "count" {
		body = Summary(body, m)
	}
	if e := q.Get("_elements"); e != "" {
		body = Elements(body, splitComma(e))
	}
	return body
}

// splitComma splits a comma-separated parameter value, dropping empty items.
func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
