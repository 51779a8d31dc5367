package rest

import (
	"context"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
)

// Update replaces Type/ID with the body (create-on-update when the id is new: the
// client chooses ids). If-Match makes it a version-aware update (412 on conflict).
// With Query set and no ID it is a conditional update: no match creates, one match
// updates it, several are a 412.
func (s *Service) Update(ctx context.Context, req *Request) (*Response, error) {
	if err := guard(req.Access, "update", req.Type); err != nil {
		return nil, err
	}
	res, warn, err := s.accept(req.Type, req.Body, req.ID, checkClaims)
	if err != nil {
		return nil, err
	}
	ifMatch, err := ifMatchVersion(req.IfMatch)
	if err != nil {
		return nil, err
	}
	resp, err := s.update(ctx, s.preIndex(preItem{res.Type, res.Body}), func(w *Writer) (*Response, error) {
		if req.ID != "" {
			if err := w.preexisting(req.Access, "update", req.Type, req.ID); err != nil {
				return nil, err
			}
			return w.written(req.Access, "update")(w.updateByID(res, req.ID, ifMatch, http.MethodPut))
		}
		return w.written(req.Access, "update")(w.conditionalUpdate(req.Access, res, req.Query.Encode(), ifMatch, ""))
	})
	return withWarnings(resp, warn), err
}

func (w *Writer) updateByID(res *fhir.Resource, id string, ifMatch int64, method string) (*Response, error) {
	rec, created, err := w.put(res.Type, id, res.Body, method, ifMatch)
	if err != nil {
		return nil, err
	}
	if created {
		return recordResponse(http.StatusCreated, rec), nil
	}
	return recordResponse(http.StatusOK, rec), nil
}

// conditionalUpdate resolves criteria to at most one resource. newID is the id to use
// when nothing matches (a transaction may have assigned it already).
func (w *Writer) conditionalUpdate(a Access, res *fhir.Resource, criteria string, ifMatch int64, newID string) (*Response, error) {
	if criteria == "" {
		return nil, badRequest("required", "", "a conditional update needs search criteria")
	}
	ids, err := w.matchAs(a, res.Type, criteria)
	if err != nil {
		return nil, err
	}
	switch len(ids) {
	case 0:
		id := res.ID
		if id == "" {
			id = newID
		}
		if id == "" {
			id = NewID()
		}
		body := res.Body
		if res.ID == "" {
			return w.createWithID(res.Type, id, body)
		}
		return w.updateByID(res, id, ifMatch, http.MethodPut)
	case 1:
		if res.ID != "" && res.ID != ids[0] {
			return nil, badRequest("invalid", res.Type+".id", "id %q differs from the resource the criteria match (%s)", res.ID, ids[0])
		}
		if err := w.preexisting(a, "update", res.Type, ids[0]); err != nil {
			return nil, err
		}
		return w.updateByID(res, ids[0], ifMatch, http.MethodPut)
	default:
		return nil, fhir.Errorf(http.StatusPreconditionFailed, "multiple-matches", "", "conditional update criteria match %d %s resources", len(ids), res.Type)
	}
}

func (w *Writer) createWithID(typ, id string, body []byte) (*Response, error) {
	rec, _, err := w.put(typ, id, body, http.MethodPut, 0)
	if err != nil {
		return nil, err
	}
	return recordResponse(http.StatusCreated, rec), nil
}

func ifMatchVersion(h string) (int64, error) {
	if h == "" {
		return 0, nil
	}
	v, ok := ParseETag(h)
	if !ok {
		return 0, badRequest("value", "", "If-Match %q is not a version ETag like W/\"3\"", h)
	}
	return v, nil
}
