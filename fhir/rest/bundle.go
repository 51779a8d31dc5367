package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Return preferences (Prefer: return=…).
const (
	ReturnMinimal          = "minimal"
	ReturnRepresentation   = "representation"
	ReturnOperationOutcome = "OperationOutcome"
)

// incoming is a submitted batch or transaction Bundle; resources stay raw.
type incoming struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		FullURL  string             `json:"fullUrl"`
		Resource json.RawMessage    `json:"resource"`
		Request  *fhir.EntryRequest `json:"request"`
	} `json:"entry"`
}

// entryOp is one parsed entry.
type entryOp struct {
	index   int
	fullURL string
	req     *Request
	res     *fhir.Resource // for POST, PUT
	warn    *fhir.OperationOutcome
	// target is "Type/id" once the transaction assigned or resolved it.
	target string
	resp   *Response
	err    error
	// newID is the id a create (or an unmatched conditional update) will get.
	newID string
	// resolved is the body with its references resolved before the store
	// transaction, valid while the transaction resolves to resolvedWith (refsKey).
	resolved     []byte
	resolvedWith string
}

// Bundle processes a batch or transaction Bundle posted to the base.
// req.Body is the Bundle; req.Access applies to every entry.
func (s *Service) Bundle(ctx context.Context, req *Request, prefer string) (*Response, error) {
	parsed, perr := fhir.ParseResource(req.Body)
	if perr != nil {
		return nil, perr
	}
	body := parsed.Body
	var in incoming
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("structure", "Bundle", "cannot read the Bundle: %v", err)
	}
	if in.ResourceType != "Bundle" {
		return nil, badRequest("invalid", "resourceType", "POST to the base takes a Bundle, not a %s", in.ResourceType)
	}
	if err := s.checkBundle(len(in.Entry), countSearches(in)); err != nil {
		return nil, err
	}
	check := checkClaims
	if in.Type == "transaction" && s.Validate != nil {
		// validated whole, so that references between entries resolve; each entry's
		// issues already name it (Bundle.entry[i]…). The server's own intake may have
		// validated these very bytes without error just before.
		if !req.BundleValidated {
			if oo := s.Validate.ValidateBundle(body); oo != nil && oo.HasErrors() {
				return nil, &fhir.Error{Status: http.StatusUnprocessableEntity, Outcome: oo}
			}
		}
		check = checkNone
	}
	ops := make([]*entryOp, len(in.Entry))
	for i, e := range in.Entry {
		op := &entryOp{index: i, fullURL: e.FullURL}
		ops[i] = op
		op.err = s.parseEntry(op, e.Request, e.Resource, req.Access, check)
		if op.err != nil && in.Type == "transaction" {
			return nil, entryError(i, op.err)
		}
	}
	switch in.Type {
	case "transaction":
		return s.transaction(ctx, ops, prefer)
	case "batch":
		return s.batch(ctx, ops, prefer)
	default:
		return nil, badRequest("value", "Bundle.type", "Bundle.type must be batch or transaction, not %q", in.Type)
	}
}

// countSearches counts the entries that are type-level searches (GET Type?…, or
// POST Type/_search), the costly kind of read.
func countSearches(in incoming) int {
	n := 0
	for _, e := range in.Entry {
		if e.Request == nil {
			continue
		}
		path, _, _ := strings.Cut(strings.Trim(e.Request.URL, "/"), "?")
		seg := strings.Split(path, "/")
		if strings.EqualFold(e.Request.Method, http.MethodGet) && len(seg) == 1 ||
			strings.EqualFold(e.Request.Method, http.MethodPost) && len(seg) == 2 && seg[1] == "_search" {
			n++
		}
	}
	return n
}

func (s *Service) parseEntry(op *entryOp, r *fhir.EntryRequest, resource json.RawMessage, access Access, check int) error {
	if r == nil || r.Method == "" || r.URL == "" {
		return badRequest("required", "request", "every entry needs request.method and request.url")
	}
	req, err := s.ParseEntryURL(strings.ToUpper(r.Method), r.URL)
	if err != nil {
		return err
	}
	req.IfMatch, req.IfNoneExist, req.IfNoneMatch, req.IfModifiedSince = r.IfMatch, r.IfNoneExist, r.IfNoneMatch, r.IfModifiedSince
	req.Access = access
	op.req = req
	if err := guard(access, strings.TrimPrefix(req.Op, "conditional-"), req.Type); err != nil {
		return err
	}
	switch req.Method {
	case http.MethodPost, http.MethodPut:
		if len(resource) == 0 {
			return badRequest("required", "resource", "a %s entry needs a resource", req.Method)
		}
		res, perr := entryResource(resource)
		if perr != nil {
			return perr
		}
		op.res, op.warn, err = s.acceptParsed(res, req.Type, req.ID, check)
		return err
	case http.MethodPatch:
		req.Body, err = patchBody(resource)
		return err
	}
	return nil
}

// patchBody takes a PATCH entry's JSON Patch, carried as a Binary resource.
func patchBody(resource json.RawMessage) ([]byte, error) {
	var bin struct {
		ResourceType string `json:"resourceType"`
		Data         []byte `json:"data"`
	}
	if err := json.Unmarshal(resource, &bin); err != nil || bin.ResourceType != "Binary" || len(bin.Data) == 0 {
		return nil, badRequest("required", "resource", "a PATCH entry carries its JSON Patch as a Binary resource (data, base64)")
	}
	return bin.Data, nil
}

// entryError places an entry's error in the Bundle: its expressions are rewritten
// relative to Bundle.entry[i].
func entryError(i int, err error) error {
	fe := fhir.AsError(err)
	if fe.Status >= 500 {
		return err
	}
	prefix := fmt.Sprintf("Bundle.entry[%d]", i)
	out := &fhir.Error{Status: fe.Status, Outcome: fhir.NewOutcome()}
	for _, is := range fe.Outcome.Issue {
		exprs := []string{}
		for _, e := range is.Expression {
			exprs = append(exprs, entryExpression(prefix, e))
		}
		if len(exprs) == 0 {
			exprs = []string{prefix}
		}
		is.Expression = exprs
		out.Outcome.Issue = append(out.Outcome.Issue, is)
	}
	return out
}

func entryExpression(prefix, e string) string {
	switch {
	case e == "request" || strings.HasPrefix(e, "request.") || e == "fullUrl":
		return prefix + "." + e
	case e == "resource" || e == "resourceType":
		return prefix + ".resource"
	}
	head, rest, found := strings.Cut(e, ".")
	if fhir.IsResourceType(head) {
		if found {
			return prefix + ".resource." + rest
		}
		return prefix + ".resource"
	}
	return prefix + ".resource." + e
}

// entryResponse renders one entry's outcome for the response Bundle.
func (s *Service) entryResponse(op *entryOp, prefer string) fhir.BundleEntry {
	if op.err != nil {
		fe := fhir.AsError(op.err)
		return fhir.BundleEntry{Response: &fhir.EntryResponse{
			Status:  statusLine(fe.Status),
			Outcome: fe.Outcome.JSON(),
		}}
	}
	r := op.resp
	e := fhir.BundleEntry{Response: &fhir.EntryResponse{Status: statusLine(r.Status), Etag: r.ETag()}}
	if !r.LastModified.IsZero() {
		e.Response.LastModified = r.LastModified.Format(time.RFC3339Nano)
	}
	if r.Record != nil && op.req.Method != http.MethodGet {
		e.Response.Location = r.Location
		e.FullURL = fmt.Sprintf("%s/%s/%s", s.base(), r.Record.Type, r.Record.ID)
	}
	switch {
	case op.req.Method == http.MethodGet:
		e.Resource = r.Body
	case prefer == ReturnRepresentation && r.Record != nil:
		e.Resource = r.Record.Body
	case prefer == ReturnOperationOutcome || r.Outcome != nil:
		if r.Outcome != nil {
			e.Response.Outcome = r.Outcome.JSON()
		} else if prefer == ReturnOperationOutcome {
			e.Response.Outcome = fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational", Diagnostics: "ok"}).JSON()
		}
	}
	return e
}

func statusLine(code int) string {
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

// runGet carries out a GET entry after the writes, through the same code as HTTP.
func (s *Service) runGet(ctx context.Context, req *Request) (*Response, error) {
	switch req.Op {
	case "read":
		return s.Read(ctx, req)
	case "vread":
		return s.VRead(ctx, req)
	case "search-type":
		return s.Search(ctx, req)
	case "history-instance", "history-type", "history-system":
		return s.History(ctx, req)
	}
	return nil, badRequest("not-supported", "request", "unsupported GET in a Bundle")
}

// batch runs each entry on its own: one failing entry fails alone.
func (s *Service) batch(ctx context.Context, ops []*entryOp, prefer string) (*Response, error) {
	b := fhir.NewBundle("batch-response")
	for _, op := range ops {
		if op.err == nil {
			op.resp, op.err = s.runOne(ctx, op)
		}
		if op.err != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		b.Entry = append(b.Entry, s.entryResponse(op, prefer))
	}
	resp := s.bundleResponse(b, nil)
	return resp, s.checkResponse(resp)
}

func (s *Service) runOne(ctx context.Context, op *entryOp) (*Response, error) {
	req := op.req
	switch req.Method {
	case http.MethodGet:
		return s.runGet(ctx, req)
	case http.MethodPost:
		if err := guard(req.Access, "create", req.Type); err != nil {
			return nil, err
		}
		return s.update(ctx, s.preIndex(preItem{op.res.Type, op.res.Body}), func(w *Writer) (*Response, error) {
			return w.written(req.Access, "create")(w.create(req.Access, op.res, req.IfNoneExist, ""))
		})
	case http.MethodPut:
		if err := guard(req.Access, "update", req.Type); err != nil {
			return nil, err
		}
		ifMatch, err := ifMatchVersion(req.IfMatch)
		if err != nil {
			return nil, err
		}
		return s.update(ctx, s.preIndex(preItem{op.res.Type, op.res.Body}), func(w *Writer) (*Response, error) {
			if req.ID == "" {
				return w.written(req.Access, "update")(w.conditionalUpdate(req.Access, op.res, req.Query.Encode(), ifMatch, ""))
			}
			if err := w.preexisting(req.Access, "update", req.Type, req.ID); err != nil {
				return nil, err
			}
			return w.written(req.Access, "update")(w.updateByID(op.res, req.ID, ifMatch, http.MethodPut))
		})
	case http.MethodDelete:
		return s.Delete(ctx, req)
	case http.MethodPatch:
		return s.Patch(ctx, req)
	}
	return nil, badRequest("not-supported", "request.method", "method %s", req.Method)
}
