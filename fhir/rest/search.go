package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// auxSearchSets is the store namespace of frozen result sets.
const auxSearchSets = "searchset"

// frozenSet is a search's matches pinned to the versions they had, so that paging
// through them stays correct while others write.
type frozenSet struct {
	Type    string      `json:"type"`
	Query   string      `json:"query"`
	Matches []versionID `json:"matches"`
	Created time.Time   `json:"created"`
}

type versionID struct {
	ID      string `json:"i"`
	Version int64  `json:"v"`
}

// Search runs a type-level search (GET or POST _search) and answers the first page.
func (s *Service) Search(ctx context.Context, req *Request) (*Response, error) {
	var (
		set      frozenSet
		result   *SearchResult
		warnings []fhir.Issue
	)
	if err := guard(req.Access, "search-type", req.Type); err != nil {
		return nil, err
	}
	_, err := s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		var err error
		vis := s.visibility(req.Access, tx, "search-type")
		result, warnings, err = s.search(tx, req, vis)
		if err != nil {
			return nil, err
		}
		if result.IDs, err = vis.filter(req.Type, result.IDs); err != nil || result.CountOnly {
			return nil, err
		}
		set = frozenSet{Type: req.Type, Query: req.Query.Encode(), Created: s.now()}
		for _, id := range result.IDs {
			rec, err := tx.Current(req.Type, id)
			if err != nil {
				return nil, err
			}
			set.Matches = append(set.Matches, versionID{id, rec.Version})
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	count, err := s.pageSize(req.Query)
	if err != nil {
		return nil, err
	}
	if result.CountOnly || count == 0 {
		b := fhir.NewBundle("searchset")
		n := len(result.IDs)
		b.Total = &n
		b.Link = []fhir.BundleLink{{Relation: "self", URL: s.selfLink(req.Type, req.Query)}}
		return s.bundleResponse(b, warnings), nil
	}
	token := ""
	if len(set.Matches) > count {
		token = NewID()
		raw, _ := json.Marshal(set)
		if err := s.Store.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux(auxSearchSets, token, raw) }); err != nil {
			return nil, err
		}
	}
	return s.page(ctx, req.Access, &set, token, 0, count, result.TotalMode, withoutIgnored(req.Query, warnings), warnings)
}

// Page answers a further page of a frozen search: GET [base]?_getpages=token&_offset=n.
func (s *Service) Page(ctx context.Context, req *Request) (*Response, error) {
	token := req.Query.Get("_getpages")
	offset, err := strconv.Atoi(req.Query.Get("_offset"))
	if err != nil || offset < 0 {
		return nil, badRequest("value", "_offset", "_offset must be a non-negative integer")
	}
	count, err := s.pageSize(req.Query)
	if err != nil {
		return nil, err
	}
	var set frozenSet
	_, err = s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		raw, err := tx.GetAux(auxSearchSets, token)
		if err != nil || raw == nil {
			return nil, fhir.Errorf(http.StatusGone, "not-found", "_getpages", "this search's result set has expired: run the search again")
		}
		return nil, json.Unmarshal(raw, &set)
	})
	if err != nil {
		return nil, err
	}
	q, _ := url.ParseQuery(set.Query)
	if err := guard(req.Access, "search-type", set.Type); err != nil {
		return nil, err
	}
	return s.page(ctx, req.Access, &set, token, offset, count, q.Get("_total"), q, nil)
}

// page renders matches[offset:offset+count] of a frozen set, with their includes.
func (s *Service) page(ctx context.Context, access Access, set *frozenSet, token string, offset, count int, totalMode string, q url.Values, warnings []fhir.Issue) (*Response, error) {
	end := min(offset+count, len(set.Matches))
	if offset > len(set.Matches) {
		offset = len(set.Matches)
	}
	b := fhir.NewBundle("searchset")
	if totalMode != "none" {
		n := len(set.Matches)
		b.Total = &n
	}
	_, err := s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		var recs []*fhir.Record
		vis := s.visibility(access, tx, "search-type")
		for _, m := range set.Matches[offset:end] {
			if ok, err := vis.sees(set.Type, m.ID); err != nil || !ok {
				if err != nil {
					return nil, err
				}
				continue // a page token used by another client sees only what it may
			}
			rec, err := tx.Version(set.Type, m.ID, m.Version)
			if err == nil {
				rec, err = vis.shown(rec)
			}
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
			b.Entry = append(b.Entry, s.searchEntry(rec, "match", q))
		}
		incs, err := s.includes(tx, access, set.Type, q, recs)
		if err != nil {
			return nil, err
		}
		for _, rec := range incs {
			b.Entry = append(b.Entry, s.searchEntry(rec, "include", q))
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	b.Link = append(b.Link, fhir.BundleLink{Relation: "self", URL: s.selfLink(set.Type, q)})
	if token != "" {
		pl := func(off int) string {
			return fmt.Sprintf("%s?_getpages=%s&_offset=%d&_count=%d", s.base(), token, off, count)
		}
		b.Link = append(b.Link, fhir.BundleLink{Relation: "first", URL: pl(0)})
		if end < len(set.Matches) {
			b.Link = append(b.Link, fhir.BundleLink{Relation: "next", URL: pl(end)})
		}
		if offset > 0 {
			b.Link = append(b.Link, fhir.BundleLink{Relation: "previous", URL: pl(max(0, offset-count))})
		}
		b.Link = append(b.Link, fhir.BundleLink{Relation: "last", URL: pl(((len(set.Matches) - 1) / count) * count)})
	}
	return s.bundleResponse(b, warnings), nil
}

func (s *Service) searchEntry(rec *fhir.Record, mode string, q url.Values) fhir.BundleEntry {
	body := rec.Body
	if mode == "match" {
		body = s.Engine.Render(body, q)
	}
	return fhir.BundleEntry{
		FullURL:  fmt.Sprintf("%s/%s/%s", s.base(), rec.Type, rec.ID),
		Resource: body,
		Search:   &fhir.EntrySearch{Mode: mode},
	}
}

// bundleResponse answers a Bundle; warnings about the request (ignored parameters)
// go into an OperationOutcome entry, as the specification suggests.
func (s *Service) bundleResponse(b *fhir.Bundle, warnings []fhir.Issue) *Response {
	b.ID = NewID()
	b.Meta = &fhir.BundleMeta{LastUpdated: s.now().Format(time.RFC3339Nano)}
	if len(warnings) > 0 {
		b.Entry = append(b.Entry, fhir.BundleEntry{
			Resource: fhir.NewOutcome(warnings...).JSON(),
			Search:   &fhir.EntrySearch{Mode: "outcome"},
		})
	}
	return &Response{Status: http.StatusOK, Body: b.JSON()}
}

func (s *Service) selfLink(typ string, q url.Values) string {
	u := s.base() + "/" + typ
	if e := q.Encode(); e != "" {
		u += "?" + e
	}
	return u
}

// pageSize reads _count: default PageSize, capped at MaxPageSize; 0 asks for the total
// alone.
func (s *Service) pageSize(q url.Values) (int, error) {
	def, limit := s.PageSize, s.MaxPageSize
	if def <= 0 {
		def = 20
	}
	if limit <= 0 {
		limit = 1000
	}
	v := q.Get("_count")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("value", "_count", "_count must be a non-negative integer, not %q", v)
	}
	return min(n, limit), nil
}

// withoutIgnored drops from q the parameters a warning says were ignored, so that the
// self link shows the search that was actually run, as the specification asks.
func withoutIgnored(q url.Values, warnings []fhir.Issue) url.Values {
	if len(warnings) == 0 {
		return q
	}
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for _, w := range warnings {
		for _, e := range w.Expression {
			delete(out, e)
		}
	}
	return out
}
