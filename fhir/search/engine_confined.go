package search

import (
	"net/url"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

var _ rest.ConfinedSearcher = (*Engine)(nil)

// SearchConfined is Search with its chains and _has confined by see (rest.Confiner).
func (s *Engine) SearchConfined(tx fhir.Tx, typ string, q url.Values, strict bool, see rest.Confiner) (*rest.SearchResult, []fhir.Issue, error) {
	query, warnings, ferr := s.reg.ParseQuery(typ, q, strict)
	if ferr != nil {
		return nil, nil, ferr
	}
	query.Confine = confiner(see)
	res, err := s.reg.Execute(tx, query)
	if err != nil {
		return nil, nil, err
	}
	return &rest.SearchResult{IDs: res.IDs, CountOnly: q.Get("_summary") == "count", TotalMode: q.Get("_total")}, warnings, nil
}

// MatchConfined is Match (conditional criteria) with chains and _has confined by see.
func (s *Engine) MatchConfined(tx fhir.Tx, typ, rawQuery string, see rest.Confiner) ([]string, error) {
	return s.reg.match(tx, typ, rawQuery, confiner(see))
}

// IncludesConfined is Includes with every step of the walk confined by see.
func (s *Engine) IncludesConfined(tx fhir.Tx, typ string, q url.Values, matches []*fhir.Record, see rest.Confiner) ([]*fhir.Record, error) {
	return s.IncludesConfinedUpTo(tx, typ, q, matches, see, 0)
}

// IncludesConfinedUpTo is IncludesConfined stopping with a 422 once more than limit
// resources are included (0: no limit), before reading the rest.
func (s *Engine) IncludesConfinedUpTo(tx fhir.Tx, typ string, q url.Values, matches []*fhir.Record, see rest.Confiner, limit int) ([]*fhir.Record, error) {
	if len(matches) == 0 || !hasIncludes(q) {
		return nil, nil
	}
	query, err := s.includeQuery(typ, q, matches)
	if err != nil {
		return nil, err
	}
	query.Confine = confiner(see)
	query.MaxIncluded = limit
	res, err := s.reg.Execute(tx, query)
	if err != nil {
		return nil, err
	}
	return res.Included, nil
}

// confiner keeps a nil rest.Confiner nil (an interface holding nil is not).
func confiner(see rest.Confiner) Confiner {
	if see == nil {
		return nil
	}
	return see
}
