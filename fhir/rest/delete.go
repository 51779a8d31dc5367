package rest

import (
	"context"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
)

// Delete removes Type/ID, keeping its history: later reads answer 410. Deleting what
// does not exist succeeds too (the specification lets delete be idempotent). With
// Query set and no ID it is a conditional delete of the single match.
func (s *Service) Delete(ctx context.Context, req *Request) (*Response, error) {
	ifMatch, err := ifMatchVersion(req.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := guard(req.Access, "delete", req.Type); err != nil {
		return nil, err
	}
	return s.update(ctx, nil, func(w *Writer) (*Response, error) {
		return w.delete(req.Access, req.Type, req.ID, req.Query.Encode(), ifMatch)
	})
}

func (w *Writer) delete(a Access, typ, id, criteria string, ifMatch int64) (*Response, error) {
	if id == "" {
		if criteria == "" {
			return nil, badRequest("required", "", "a conditional delete needs search criteria")
		}
		ids, err := w.matchAs(a, typ, criteria)
		if err != nil {
			return nil, err
		}
		switch len(ids) {
		case 0:
			return &Response{Status: http.StatusNoContent}, nil
		case 1:
			id = ids[0]
		default:
			return nil, fhir.Errorf(http.StatusPreconditionFailed, "multiple-matches", "", "conditional delete criteria match %d %s resources", len(ids), typ)
		}
	}
	if err := w.preexisting(a, "delete", typ, id); err != nil {
		return nil, err
	}
	if ifMatch != 0 {
		cur, err := w.tx.Current(typ, id)
		if err != nil || cur.Version != ifMatch {
			return nil, fhir.Errorf(http.StatusPreconditionFailed, "conflict", "", "If-Match version %d is not the current version of %s/%s", ifMatch, typ, id)
		}
	}
	rec, _, err := w.Delete(typ, id)
	if err != nil {
		return nil, err
	}
	resp := &Response{Status: http.StatusNoContent}
	if rec != nil {
		resp.VersionID = rec.Version
		resp.LastModified = rec.LastUpdated
	}
	return resp, nil
}
