package server

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Context keys set by routing, read by guards and handlers.
const (
	ctxOp   = "fhir.op"
	ctxType = "fhir.type"
	ctxReq  = "fhir.request"
	// ctxOperation holds the $name of an operation.
	ctxOperation = "fhir.operation"
)

// RequestFrom returns the routed interaction of a request (for guards).
func RequestFrom(c *gin.Context) *rest.Request { return currentRequest(c) }

func currentRequest(c *gin.Context) *rest.Request {
	if v, ok := c.Get(ctxReq); ok {
		return v.(*rest.Request)
	}
	return &rest.Request{}
}

// route turns the URL, headers and body into a rest.Request with its interaction.
func (s *Server) route(c *gin.Context) {
	req, err := s.parseRequest(c)
	if err != nil {
		s.fail(c, err)
		c.Abort()
		return
	}
	c.Set(ctxReq, req)
	c.Set(ctxOp, req.Op)
	c.Set(ctxType, req.Type)
}

func (s *Server) parseRequest(c *gin.Context) (*rest.Request, error) {
	r := c.Request
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/fhir"), "/")
	query := r.URL.Query()
	if err := checkQueryText(query); err != nil {
		return nil, err
	}
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	req := &rest.Request{
		Method: r.Method, Query: query, Body: body,
		IfMatch: r.Header.Get("If-Match"), IfNoneExist: r.Header.Get("If-None-Exist"),
		IfNoneMatch: r.Header.Get("If-None-Match"), IfModifiedSince: r.Header.Get("If-Modified-Since"),
		Strict: preference(r, "handling") == "strict",
	}
	seg := strings.Split(path, "/")
	last := seg[len(seg)-1]
	switch {
	case path == "" && r.Method == http.MethodPost:
		req.Op = "batch"
	case path == "" && r.Method == http.MethodGet && query.Has("_getpages"):
		req.Op = "page"
	case path == "" && r.Method == http.MethodGet:
		req.Op = "search-system"
	case path == "metadata" && r.Method == http.MethodGet:
		req.Op = "capabilities"
	case strings.HasPrefix(last, "$"):
		return s.routeOperation(c, req, seg)
	case len(seg) == 2 && seg[1] == "_search" && r.Method == http.MethodPost:
		if !fhir.IsResourceType(seg[0]) {
			return nil, unknownType(seg[0])
		}
		if err := mergeForm(req, r.Header.Get("Content-Type")); err != nil {
			return nil, err
		}
		req.Type, req.Op = seg[0], "search-type"
	default:
		if !fhir.IsResourceType(seg[0]) && seg[0] != "_history" {
			return nil, unknownType(seg[0])
		}
		parsed, err := s.svc.ParseEntryURL(r.Method, path)
		if err != nil {
			return nil, err
		}
		req.Type, req.ID, req.Version, req.Op = parsed.Type, parsed.ID, parsed.Version, parsed.Op
	}
	return req, nil
}

func (s *Server) routeOperation(c *gin.Context, req *rest.Request, seg []string) (*rest.Request, error) {
	name := seg[len(seg)-1]
	switch len(seg) {
	case 1:
	case 2, 3:
		if !fhir.IsResourceType(seg[0]) {
			return nil, unknownType(seg[0])
		}
		req.Type = seg[0]
		if len(seg) == 3 {
			if !fhir.ValidID(seg[1]) {
				return nil, fhir.Errorf(http.StatusBadRequest, "value", req.Type+".id", "%q is not a valid id: [A-Za-z0-9-.]{1,64}", seg[1])
			}
			req.ID = seg[1]
		}
	default:
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "", "no operation at this path")
	}
	req.Op = "operation"
	c.Set(ctxOperation, name)
	return req, nil
}

func unknownType(t string) error {
	return fhir.Errorf(http.StatusNotFound, "not-supported", "", "unknown resource type %q", t)
}

// checkQueryText refuses search parameters that are not valid UTF-8 or hold NUL: they
// could match nothing sensibly, and would be echoed in self links as they came.
func checkQueryText(q url.Values) error {
	for k, vs := range q {
		if !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
			return fhir.Errorf(http.StatusBadRequest, "structure", "", "a parameter name is not valid UTF-8 text")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return fhir.Errorf(http.StatusBadRequest, "structure", k, "the value of %s is not valid UTF-8 text", k)
			}
		}
	}
	return nil
}

// readBody reads the body up to MaxBody: beyond it, a 413.
func (s *Server) readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fhir.Errorf(http.StatusRequestEntityTooLarge, "too-long", "", "request body exceeds %d bytes", s.cfg.MaxBody)
	}
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "", "cannot read request body")
	}
	return fhir.TrimBOM(body), nil
}

// mergeForm adds the parameters of a POST _search form body to the query.
func mergeForm(req *rest.Request, contentType string) error {
	if len(req.Body) == 0 {
		return nil
	}
	if !strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		return fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "", "POST _search takes application/x-www-form-urlencoded")
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return fhir.Errorf(http.StatusBadRequest, "value", "", "malformed form body: %v", err)
	}
	for k, vs := range form {
		req.Query[k] = append(req.Query[k], vs...)
	}
	req.Body = nil
	return nil
}

// preference returns the value of one Prefer token (return, handling…).
func preference(r *http.Request, name string) string {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ";") {
			for _, kv := range strings.Split(part, ",") {
				k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
				if ok && strings.EqualFold(k, name) {
					return strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
		}
	}
	return ""
}
