package rest

import (
	"context"
	"errors"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/aitgw/aitgw/fhir"
)

// Patch applies a JSON Patch (RFC 6902) to the current version of Type/ID (or of the
// single match of a conditional patch). The patched document must still be the same
// resource: same type, same id. Members the patch does not touch keep their order and
// bytes.
func (s *Service) Patch(ctx context.Context, req *Request) (*Response, error) {
	if err := guard(req.Access, "patch", req.Type); err != nil {
		return nil, err
	}
	patch, err := s.decodePatch(req.Body)
	if err != nil {
		return nil, err
	}
	ifMatch, err := ifMatchVersion(req.IfMatch)
	if err != nil {
		return nil, err
	}
	// The patch is applied inside the transaction (it needs the current version), so
	// validation of the result happens there too; it is pure and has no outside effect.
	var warn *fhir.OperationOutcome
	resp, err := s.update(ctx, nil, func(w *Writer) (*Response, error) {
		var r *Response
		var err error
		r, warn, err = w.patch(req.Access, req.Type, req.ID, req.Query.Encode(), patch, ifMatch)
		return w.written(req.Access, "patch")(r, err)
	})
	return withWarnings(resp, warn), err
}

func (w *Writer) patch(a Access, typ, id, criteria string, patch jsonpatch.Patch, ifMatch int64) (*Response, *fhir.OperationOutcome, error) {
	if id == "" {
		ids, err := w.matchAs(a, typ, criteria)
		if err != nil {
			return nil, nil, err
		}
		if len(ids) != 1 {
			return nil, nil, fhir.Errorf(http.StatusPreconditionFailed, "multiple-matches", "", "conditional patch criteria match %d %s resources", len(ids), typ)
		}
		id = ids[0]
	}
	if err := w.preexisting(a, "patch", typ, id); err != nil {
		return nil, nil, err
	}
	cur, err := w.tx.Current(typ, id)
	if err != nil {
		return nil, nil, notFound(err, typ, id)
	}
	if cur.Deleted {
		return nil, nil, gone(cur)
	}
	out, err := w.s.applyPatch(patch, cur.Body)
	if err != nil {
		return nil, nil, err
	}
	res, warn, err := w.s.accept(typ, out, id, checkClaims)
	if err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) && fe.Status == http.StatusBadRequest {
			fe.Status = http.StatusUnprocessableEntity // the patch, not the request, is at fault
		}
		return nil, nil, err
	}
	resp, err := w.updateByID(res, id, ifMatch, http.MethodPatch)
	return resp, warn, err
}
