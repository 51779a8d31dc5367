package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Search runs a type-level search (GET or POST _search) and answers the first page.
//
// Paging stores nothing: a page link carries the search itself (see pageToken) and
// every page runs the search again on a fresh snapshot. A read never writes, so
// any number of paged searches leaves the store as it was. See Page for what stays
// stable between pages.
func (s *Service) Search(ctx context.Context, req *Request) (*Response, error) {
	if err := guard(req.Access, "search-type", req.Type); err != nil {
		return nil, err
	}
	count, err := s.pageSize(req.Query)
	if err != nil {
		return nil, err
	}
	if err := s.checkIncludes(req.Query); err != nil {
		return nil, err
	}
	tok := pageToken{Type: req.Type, Query: req.Query, At: s.now()}
	return s.runPage(ctx, req.Access, tok, 0, "", count, req.Strict, true)
}

// Page answers a further page: GET [base]?_getpages=token&_offset=n&_count=c
// [&_after=id]. The token names the search and the instant of its first page; the
// search runs again, and what a page shows is defined as follows (the specification
// lets a server re-run a search for each page, and does not require a frozen set):
//   - resources created after the first page are left out, so they do not shift the
//     pages that follow;
//   - the matches are the current versions, and their order is the search's;
//   - without _sort the order is by id and a next link carries the last id shown
//     (_after), so a deletion or an update made meanwhile neither repeats nor skips a
//     resource; with _sort, pages are by offset, and a resource deleted or updated out
//     of the result before the offset shifts the following pages by one;
//   - _total is the count of this re-run.
//
// Scopes and the patient compartment are checked again on every page: a token is the
// same search as one the client could have typed, and confers nothing.
func (s *Service) Page(ctx context.Context, req *Request) (*Response, error) {
	tok, err := parsePageToken(req.Query.Get("_getpages"))
	if err != nil {
		return nil, err
	}
	offset, err := strconv.Atoi(req.Query.Get("_offset"))
	if err != nil || offset < 0 {
		return nil, badRequest("value", "_offset", "_offset must be a non-negative integer")
	}
	q := url.Values{}
	for k, v := range tok.Query {
		q[k] = v
	}
	if c := req.Query.Get("_count"); c != "" {
		q.Set("_count", c)
	}
	count, err := s.pageSize(q)
	if err != nil {
		return nil, err
	}
	if err := guard(req.Access, "search-type", tok.Type); err != nil {
		return nil, err
	}
	if err := s.checkIncludes(tok.Query); err != nil {
		return nil, err
	}
	after := req.Query.Get("_after")
	if after != "" && !fhir.ValidID(after) {
		return nil, badRequest("value", "_after", "_after must be a resource id")
	}
	return s.runPage(ctx, req.Access, tok, offset, after, count, false, false)
}

// runPage runs tok's search on one snapshot and renders one page of it.
func (s *Service) runPage(ctx context.Context, access Access, tok pageToken, offset int, after string, count int, strict, first bool) (*Response, error) {
	var (
		b        = fhir.NewBundle("searchset")
		ids      []string
		warnings []fhir.Issue
		sorted   = tok.Query.Get("_sort") != ""
		end      int
	)
	_, err := s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		vis := s.visibility(access, tx, "search-type")
		req := &Request{Access: access, Type: tok.Type, Query: tok.Query, Strict: strict}
		result, warn, err := s.search(tx, req, vis)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err // past the request's deadline: read no further
		}
		warnings = warn
		if ids, err = vis.filter(tok.Type, result.IDs); err != nil {
			return nil, err
		}
		if !first {
			if ids, err = existedAt(tx, tok.Type, ids, tok.At); err != nil {
				return nil, err
			}
		}
		if result.CountOnly || count == 0 {
			n := len(ids)
			b.Total = &n
			count = 0
			return nil, nil
		}
		if after != "" && !sorted {
			offset = sort.SearchStrings(ids, after)
			if offset < len(ids) && ids[offset] == after {
				offset++
			}
		}
		offset = min(offset, len(ids))
		end = min(offset+count, len(ids))
		if result.TotalMode != "none" {
			n := len(ids)
			b.Total = &n
		}
		var recs []*fhir.Record
		for _, id := range ids[offset:end] {
			rec, err := tx.Current(tok.Type, id)
			if err == nil {
				rec, err = vis.shown(rec) // secrets only to their owner
			}
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
			b.Entry = append(b.Entry, s.searchEntry(rec, "match", tok.Query))
		}
		incs, err := s.includes(tx, access, tok.Type, tok.Query, recs)
		if err != nil {
			return nil, err
		}
		if len(incs) > s.Limits.includes() {
			return nil, tooCostly("_include", "the includes of this page number %d resources, more than the %d allowed (--max-includes): ask for a smaller _count", len(incs), s.Limits.includes())
		}
		for _, rec := range incs {
			b.Entry = append(b.Entry, s.searchEntry(rec, "include", tok.Query))
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	q := withoutIgnored(tok.Query, warnings)
	b.Link = []fhir.BundleLink{{Relation: "self", URL: s.selfLink(tok.Type, q)}}
	if count > 0 && len(ids) > count {
		tok.Query = q
		enc := tok.encode()
		pl := func(off int, after string) string {
			u := fmt.Sprintf("%s?_getpages=%s&_offset=%d&_count=%d", s.base(), enc, off, count)
			if after != "" && !sorted {
				u += "&_after=" + url.QueryEscape(after)
			}
			return u
		}
		b.Link = append(b.Link, fhir.BundleLink{Relation: "first", URL: pl(0, "")})
		if end < len(ids) {
			b.Link = append(b.Link, fhir.BundleLink{Relation: "next", URL: pl(end, ids[end-1])})
		}
		if offset > 0 {
			b.Link = append(b.Link, fhir.BundleLink{Relation: "previous", URL: pl(max(0, offset-count), "")})
		}
		b.Link = append(b.Link, fhir.BundleLink{Relation: "last", URL: pl(((len(ids)-1)/count)*count, "")})
	}
	resp := s.bundleResponse(b, warnings)
	if err := s.checkResponse(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// existedAt keeps the ids whose resource existed at the instant at: a resource
// created later is not part of a search whose first page was answered at at.
func existedAt(tx fhir.Tx, typ string, ids []string, at time.Time) ([]string, error) {
	out := ids[:0:0]
	for _, id := range ids {
		rec, err := tx.Current(typ, id)
		if err != nil {
			return nil, err
		}
		if !rec.LastUpdated.After(at) {
			out = append(out, id)
			continue
		}
		v1, err := tx.Version(typ, id, 1)
		if err != nil {
			return nil, err
		}
		if !v1.LastUpdated.After(at) {
			out = append(out, id)
		}
	}
	return out, nil
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
