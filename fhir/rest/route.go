package rest

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// typeLevel and instanceLevel name the interaction of each method on [base]/Type and
// [base]/Type/id.
var (
	typeLevel = map[string]string{
		http.MethodGet: "search-type", http.MethodPost: "create", http.MethodPut: "conditional-update",
		http.MethodDelete: "conditional-delete", http.MethodPatch: "conditional-patch",
	}
	instanceLevel = map[string]string{
		http.MethodGet: "read", http.MethodPut: "update", http.MethodDelete: "delete", http.MethodPatch: "patch",
	}
)

// ParseEntryURL turns a Bundle entry's request (method and url, relative to the base or
// absolute under it) into a Request with its Op set, as the HTTP router would.
func (s *Service) ParseEntryURL(method, raw string) (*Request, error) {
	raw = strings.TrimPrefix(raw, s.base())
	raw = strings.TrimPrefix(raw, "/")
	path, query, _ := strings.Cut(raw, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, badRequest("value", "", "request.url %q has a malformed query: %v", raw, err)
	}
	req := &Request{Method: method, Query: q}
	seg := strings.Split(path, "/")
	if path == "" {
		seg = nil
	}
	bad := func() error {
		return badRequest("not-supported", "", "%s %s is not an interaction a Bundle entry can carry", method, raw)
	}
	if len(seg) > 0 {
		if !fhir.IsResourceType(seg[0]) {
			if seg[0] == "_history" && len(seg) == 1 && method == http.MethodGet {
				req.Op = "history-system"
				return req, nil
			}
			return nil, badRequest("not-supported", "", "unknown resource type %q in request.url", seg[0])
		}
		req.Type = seg[0]
	}
	switch {
	case len(seg) == 1:
		if req.Op = typeLevel[method]; req.Op == "" {
			return nil, bad()
		}
	case len(seg) == 2 && seg[1] == "_history" && method == http.MethodGet:
		req.Op = "history-type"
	case len(seg) == 2 && seg[1] == "_search" && method == http.MethodPost:
		req.Op = "search-type"
	case len(seg) == 2:
		if !fhir.ValidID(seg[1]) {
			return nil, badRequest("value", req.Type+".id", "%q is not a valid id: [A-Za-z0-9-.]{1,64}", seg[1])
		}
		req.ID = seg[1]
		if req.Op = instanceLevel[method]; req.Op == "" {
			return nil, bad()
		}
	case len(seg) == 3 && seg[2] == "_history" && method == http.MethodGet:
		req.ID, req.Op = seg[1], "history-instance"
	case len(seg) == 4 && seg[2] == "_history" && method == http.MethodGet:
		req.ID, req.Version, req.Op = seg[1], seg[3], "vread"
	default:
		return nil, bad()
	}
	return req, nil
}
