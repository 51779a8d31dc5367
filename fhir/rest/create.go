package rest

import (
	"context"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
)

// Create stores a new resource under a server-assigned id (any id in the body is
// ignored, as the specification says). With If-None-Exist it is conditional: one
// match answers 200 with that resource and creates nothing; several are a 412.
func (s *Service) Create(ctx context.Context, req *Request) (*Response, error) {
	if err := guard(req.Access, "create", req.Type); err != nil {
		return nil, err
	}
	res, warn, err := s.accept(req.Type, req.Body, "")
	if err != nil {
		return nil, err
	}
	resp, err := s.update(ctx, s.preIndex(preItem{res.Type, res.Body}), func(w *Writer) (*Response, error) {
		return w.written(req.Access, "create")(w.create(res, req.IfNoneExist, ""))
	})
	return withWarnings(resp, warn), err
}

// create is Create inside a transaction. id, when set, is the id a transaction
// already assigned to the entry.
func (w *Writer) create(res *fhir.Resource, ifNoneExist, id string) (*Response, error) {
	if ifNoneExist != "" {
		if resp, err := w.existing(res.Type, ifNoneExist); resp != nil || err != nil {
			return resp, err
		}
	}
	if id == "" {
		id = NewID()
	}
	rec, _, err := w.Put(res.Type, id, res.Body, http.MethodPost, 0)
	if err != nil {
		return nil, err
	}
	return recordResponse(http.StatusCreated, rec), nil
}

// existing answers a conditional create whose criteria match: 200 with the match for
// one, 412 for several, nil for none.
func (w *Writer) existing(typ, criteria string) (*Response, error) {
	ids, err := w.Match(typ, criteria)
	if err != nil {
		return nil, err
	}
	switch len(ids) {
	case 0:
		return nil, nil
	case 1:
		rec, err := w.tx.Current(typ, ids[0])
		if err != nil {
			return nil, err
		}
		return recordResponse(http.StatusOK, rec), nil
	default:
		return nil, fhir.Errorf(http.StatusPreconditionFailed, "duplicate", "", "If-None-Exist criteria match %d %s resources", len(ids), typ)
	}
}

// accept parses and validates a submitted resource against the type the URL names,
// and the id it names (for update). Validation happens here, before any transaction,
// so that a slow profile check never holds the store's write lock.
func (s *Service) accept(typ string, body []byte, id string) (*fhir.Resource, *fhir.OperationOutcome, error) {
	res, perr := fhir.ParseResource(body)
	if perr != nil {
		return nil, nil, perr
	}
	if typ != "" && res.Type != typ {
		return nil, nil, badRequest("invalid", "resourceType", "resourceType %q does not match the URL's type %q", res.Type, typ)
	}
	if id != "" && res.ID != id {
		if res.ID == "" {
			return nil, nil, badRequest("required", res.Type+".id", "an update must carry the id of the URL (%s)", id)
		}
		return nil, nil, badRequest("invalid", res.Type+".id", "id %q does not match the URL's id %q", res.ID, id)
	}
	var warn *fhir.OperationOutcome
	if s.Validate != nil {
		oo := s.Validate.ValidateWrite(res.Type, res.Body)
		if oo != nil && oo.HasErrors() {
			return nil, nil, &fhir.Error{Status: http.StatusUnprocessableEntity, Outcome: oo}
		}
		if oo != nil && len(oo.Issue) > 0 {
			warn = oo
		}
	}
	return res, warn, nil
}

func withWarnings(resp *Response, warn *fhir.OperationOutcome) *Response {
	if resp != nil && warn != nil {
		resp.Outcome = warn
	}
	return resp
}

// Record stores resources the server generates itself (audit events, notifications)
// in one transaction, under new ids. Each is checked like a client's submission first:
// generated resources get no more trust than received ones.
func (s *Service) Record(ctx context.Context, typ string, bodies [][]byte) error {
	var items []preItem
	res := make([]*fhir.Resource, len(bodies))
	for i, b := range bodies {
		r, _, err := s.accept(typ, b, "")
		if err != nil {
			return entryError(i, err)
		}
		res[i] = r
		items = append(items, preItem{r.Type, r.Body})
	}
	ids := make([]string, len(res))
	for i := range ids {
		ids[i] = NewID()
	}
	_, err := s.update(ctx, s.preIndex(items...), func(w *Writer) (*Response, error) {
		for i, r := range res {
			if _, _, err := w.Put(r.Type, ids[i], r.Body, http.MethodPost, 0); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	return err
}
