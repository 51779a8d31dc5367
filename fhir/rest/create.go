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
	res, warn, err := s.accept(req.Type, req.Body, "", checkClaims)
	if err != nil {
		return nil, err
	}
	resp, err := s.update(ctx, s.preIndex(preItem{res.Type, res.Body}), func(w *Writer) (*Response, error) {
		return w.written(req.Access, "create")(w.create(req.Access, res, req.IfNoneExist, ""))
	})
	return withWarnings(resp, warn), err
}

// create is Create inside a transaction. id, when set, is the id a transaction
// already assigned to the entry.
func (w *Writer) create(a Access, res *fhir.Resource, ifNoneExist, id string) (*Response, error) {
	if ifNoneExist != "" {
		if resp, err := w.existing(a, res.Type, ifNoneExist); resp != nil || err != nil {
			return resp, err
		}
	}
	if id == "" {
		id = NewID()
	}
	rec, _, err := w.put(res.Type, id, res.Body, http.MethodPost, 0)
	if err != nil {
		return nil, err
	}
	return recordResponse(http.StatusCreated, rec), nil
}

// existing answers a conditional create whose criteria match: 200 with the match for
// one, 412 for several, nil for none.
func (w *Writer) existing(a Access, typ, criteria string) (*Response, error) {
	ids, err := w.matchAs(a, typ, criteria)
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
// Validation modes of accept.
const (
	checkClaims = iota // what the resource claims (meta.profile)
	checkNone          // already validated as part of its Bundle
)

func (s *Service) accept(typ string, body []byte, id string, check int) (*fhir.Resource, *fhir.OperationOutcome, error) {
	res, perr := fhir.ParseResource(body)
	if perr != nil {
		return nil, nil, perr
	}
	return s.acceptParsed(res, typ, id, check)
}

// acceptParsed is accept for a resource already parsed.
func (s *Service) acceptParsed(res *fhir.Resource, typ, id string, check int) (*fhir.Resource, *fhir.OperationOutcome, error) {
	if typ != "" && res.Type != typ {
		return nil, nil, badRequest("invalid", "resourceType", "resourceType %q does not match the URL's type %q", res.Type, typ)
	}
	if id != "" && res.ID != id {
		if res.ID == "" {
			return nil, nil, badRequest("required", res.Type+".id", "an update must carry the id of the URL (%s)", id)
		}
		return nil, nil, badRequest("invalid", res.Type+".id", "id %q does not match the URL's id %q", res.ID, id)
	}
	refWarnings, err := s.checkReferences(res)
	if err != nil {
		return nil, nil, err
	}
	var warn *fhir.OperationOutcome
	if s.Validate != nil && check != checkNone {
		oo := s.Validate.ValidateWrite(res.Type, res.Body, false)
		if oo != nil && oo.HasErrors() {
			return nil, nil, &fhir.Error{Status: http.StatusUnprocessableEntity, Outcome: oo}
		}
		if oo != nil && len(oo.Issue) > 0 {
			warn = oo
		}
	}
	if len(refWarnings) > 0 {
		if warn == nil {
			warn = fhir.NewOutcome()
		}
		warn.Issue = append(warn.Issue, refWarnings...)
	}
	return res, warn, nil
}

func withWarnings(resp *Response, warn *fhir.OperationOutcome) *Response {
	if resp == nil || warn == nil {
		return resp
	}
	if resp.Outcome != nil {
		warn.Issue = append(warn.Issue, resp.Outcome.Issue...)
	}
	resp.Outcome = warn
	return resp
}
