package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// History answers the history of an instance (Type and ID set), a type (Type set) or
// the whole system, newest first, with _since and _count. Paging links carry the time
// of the first page (_before) so that writes made meanwhile do not shift the pages.
func (s *Service) History(ctx context.Context, req *Request) (*Response, error) {
	q := req.Query
	f := fhir.HistoryFilter{Type: req.Type, ID: req.ID}
	var err error
	if f.Since, err = historyTime(q, "_since"); err != nil {
		return nil, err
	}
	if f.At, err = historyTime(q, "_before"); err != nil {
		return nil, err
	}
	if f.At.IsZero() {
		f.At = s.now().Add(time.Nanosecond)
	}
	count, err := s.pageSize(q)
	if err != nil {
		return nil, err
	}
	offset := 0
	if v := q.Get("_offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return nil, badRequest("value", "_offset", "_offset must be a non-negative integer")
		}
	}
	for k := range q {
		switch k {
		case "_since", "_before", "_count", "_offset", "_format", "_pretty", "_at", "_list", "_sort":
		default:
			if req.Strict {
				return nil, badRequest("not-supported", k, "history does not take parameter %s", k)
			}
		}
	}
	interaction := "history-system"
	switch {
	case req.ID != "":
		interaction = "history-instance"
	case req.Type != "":
		interaction = "history-type"
	}
	if req.Type != "" {
		if err := guard(req.Access, interaction, req.Type); err != nil {
			return nil, err
		}
	}
	b := fhir.NewBundle("history")
	more := false
	_, err = s.view(ctx, func(tx fhir.Tx) (*Response, error) {
		vis := s.visibility(req.Access, tx, interaction)
		if req.ID != "" {
			if err := vis.mustSee(req.Type, req.ID); err != nil {
				return nil, err
			}
			if _, err := tx.Current(req.Type, req.ID); err != nil {
				return nil, notFound(err, req.Type, req.ID)
			}
		}
		i := 0
		var visErr error
		err := tx.History(f, func(rec *fhir.Record) bool {
			if req.Access != nil && req.ID == "" {
				ok, err := vis.sees(rec.Type, rec.ID)
				if err != nil {
					visErr = err
					return false
				}
				if !ok {
					return true // outside the grant: not part of this client's history
				}
			}
			if ok, err := vis.sawVersion(rec); err != nil || !ok {
				if err != nil {
					visErr = err
					return false
				}
				return true // a version from before the resource came to this patient
			}
			if i >= offset+count {
				more = true
				return false
			}
			if i >= offset {
				shown, err := vis.shown(rec)
				if err != nil {
					visErr = err
					return false
				}
				b.Entry = append(b.Entry, s.historyEntry(shown))
			}
			i++
			return true
		})
		if visErr != nil {
			return nil, visErr
		}
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	link := func(off int) string {
		v := url.Values{}
		if !f.Since.IsZero() {
			v.Set("_since", f.Since.Format(time.RFC3339Nano))
		}
		v.Set("_before", f.At.Format(time.RFC3339Nano))
		v.Set("_offset", strconv.Itoa(off))
		v.Set("_count", strconv.Itoa(count))
		return s.historyBase(req) + "?" + v.Encode()
	}
	b.Link = []fhir.BundleLink{{Relation: "self", URL: link(offset)}}
	if more {
		b.Link = append(b.Link, fhir.BundleLink{Relation: "next", URL: link(offset + count)})
	}
	if offset > 0 {
		b.Link = append(b.Link, fhir.BundleLink{Relation: "previous", URL: link(max(0, offset-count))})
	}
	resp := s.bundleResponse(b, nil)
	if err := s.checkResponse(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *Service) historyBase(req *Request) string {
	switch {
	case req.ID != "":
		return fmt.Sprintf("%s/%s/%s/_history", s.base(), req.Type, req.ID)
	case req.Type != "":
		return fmt.Sprintf("%s/%s/_history", s.base(), req.Type)
	}
	return s.base() + "/_history"
}

func (s *Service) historyEntry(rec *fhir.Record) fhir.BundleEntry {
	e := fhir.BundleEntry{
		FullURL: fmt.Sprintf("%s/%s/%s", s.base(), rec.Type, rec.ID),
		Request: &fhir.EntryRequest{Method: rec.Method, URL: rec.Type + "/" + rec.ID},
		Response: &fhir.EntryResponse{
			Etag:         fmt.Sprintf(`W/"%d"`, rec.Version),
			LastModified: rec.LastUpdated.Format(time.RFC3339Nano),
		},
	}
	switch {
	case rec.Deleted:
		e.Response.Status = "204 No Content"
	case rec.Version == 1 || rec.Method == http.MethodPost:
		e.Response.Status = "201 Created"
		e.Resource = rec.Body
	default:
		e.Response.Status = "200 OK"
		e.Resource = rec.Body
	}
	if rec.Method == http.MethodPost {
		e.Request.URL = rec.Type
	}
	if rec.Method == http.MethodPatch {
		e.Request.Method = http.MethodPatch
	}
	return e
}

// historyTime parses an instant parameter (_since, _before).
func historyTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequest("value", name, "%s must be an instant like 2024-01-31T10:00:00Z, not %q", name, v)
}
