package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// ContentType is the media type of every FHIR answer.
const ContentType = "application/fhir+json; charset=utf-8"

// negotiate refuses what the gateway cannot speak before any work is done: XML asked
// for (406) or sent (415). JSON only, as application/fhir+json or application/json.
func (s *Server) negotiate(c *gin.Context) {
	r := c.Request
	if f := r.URL.Query().Get("_format"); f != "" && !isJSON(f) {
		s.fail(c, fhir.Errorf(http.StatusNotAcceptable, "not-supported", "_format", "_format %q is not supported: this server speaks application/fhir+json only", f))
		c.Abort()
		return
	}
	if a := r.Header.Get("Accept"); a != "" && r.URL.Query().Get("_format") == "" && !acceptsJSON(a) {
		s.fail(c, fhir.Errorf(http.StatusNotAcceptable, "not-supported", "", "Accept %q cannot be served: this server speaks application/fhir+json only", a))
		c.Abort()
		return
	}
	if r.ContentLength != 0 && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		ct := strings.ToLower(r.Header.Get("Content-Type"))
		ok := ct == "" || isJSON(ct) || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
		if r.Method == http.MethodPatch {
			ok = strings.HasPrefix(ct, "application/json-patch+json")
		}
		if !ok {
			s.fail(c, fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "", "Content-Type %q is not supported: send application/fhir+json (application/json-patch+json for PATCH)", ct))
			c.Abort()
			return
		}
	}
}

func isJSON(v string) bool {
	v = strings.ToLower(strings.TrimSpace(strings.Split(v, ";")[0]))
	switch v {
	case "json", "application/json", "application/fhir+json", "application/json+fhir":
		return true
	}
	return false
}

func acceptsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt := strings.ToLower(strings.TrimSpace(strings.Split(part, ";")[0]))
		if isJSON(mt) || mt == "*/*" || mt == "application/*" {
			return true
		}
	}
	return false
}

// fail answers an error as an OperationOutcome with its status.
func (s *Server) fail(c *gin.Context, err error) {
	fe := fhir.AsError(err)
	if fe.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(fhir.RetryAfterSeconds))
	}
	if fe.Status >= 500 {
		s.cfg.Logger.Error("request failed", "op", c.GetString(ctxOp), "error", err.Error())
	}
	s.write(c, fe.Status, fe.Outcome.JSON())
}

// write sends a FHIR body, pretty-printed when _pretty=true.
func (s *Server) write(c *gin.Context, status int, body []byte) {
	if c.Request.URL.Query().Get("_pretty") == "true" && len(body) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			body = buf.Bytes()
		}
	}
	if len(body) == 0 {
		c.Status(status)
		c.Writer.WriteHeaderNow()
		return
	}
	c.Data(status, ContentType, body)
}

// reply sends an interaction's response: headers (ETag, Last-Modified, Location) and
// the body chosen by Prefer: return=.
func (s *Server) reply(c *gin.Context, resp *rest.Response, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	if et := resp.ETag(); et != "" {
		h.Set("ETag", et)
	}
	if !resp.LastModified.IsZero() {
		h.Set("Last-Modified", resp.LastModified.UTC().Format(http.TimeFormat))
	}
	write := c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead
	if write && resp.Record != nil && resp.Location != "" {
		h.Set("Location", s.base()+"/"+resp.Location)
		if resp.Status == http.StatusCreated {
			h.Set("Content-Location", s.base()+"/"+resp.Location)
		}
	}
	body := resp.Body
	if write && resp.Record != nil {
		switch preference(c.Request, "return") {
		case rest.ReturnMinimal:
			body = nil
		case rest.ReturnOperationOutcome:
			oo := resp.Outcome
			if oo == nil {
				oo = fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational",
					Diagnostics: "stored " + resp.Location})
			}
			body = oo.JSON()
		}
	}
	if resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified {
		body = nil
	}
	s.write(c, resp.Status, body)
}
