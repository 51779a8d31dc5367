package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// FHIRJSON is the FHIR JSON media type.
const FHIRJSON = "application/fhir+json"

// Client is a minimal FHIR REST client over one keep-alive connection pool. Paths are
// relative to the FHIR base ("Patient/1", "Patient?name=x"); absolute URLs (paging
// links) are used as they are.
type Client struct {
	// Base is the FHIR base URL, without a trailing slash.
	Base string
	// HTTP is the underlying client.
	HTTP *http.Client
	// Token, when set, is sent as "Authorization: Bearer <Token>".
	Token string
}

// NewClient returns a client for base with a generous timeout and keep-alive.
func NewClient(base string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &Client{Base: strings.TrimSuffix(base, "/"), HTTP: &http.Client{Timeout: 60 * time.Second, Transport: tr}}
}

// Response is an HTTP answer read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request. header holds extra headers; a body without an explicit
// Content-Type is sent as application/fhir+json.
func (c *Client) Do(method, path string, body []byte, header map[string]string) (*Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	return c.DoReader(method, path, r, header)
}

// DoReader is Do with a streamed body (nil for none).
func (c *Client) DoReader(method, path string, body io.Reader, header map[string]string) (*Response, error) {
	url := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		url = c.Base + "/" + strings.TrimPrefix(path, "/")
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", FHIRJSON)
	if body != nil {
		req.Header.Set("Content-Type", FHIRJSON)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	setAuth(req, c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Object decodes the body as a JSON object, keeping numbers as their literal text.
func (r *Response) Object() (map[string]any, error) {
	v, err := DecodeJSON(r.Body)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("body is not a JSON object")
	}
	return m, nil
}

// String describes the response briefly for test failures (status and the head of
// the body, which for errors is an OperationOutcome).
func (r *Response) String() string {
	b := r.Body
	if len(b) > 600 {
		b = append(b[:600:600], "…"...)
	}
	return fmt.Sprintf("HTTP %d %s", r.Status, b)
}

// Bundle is the part of a Bundle the tests look at.
type Bundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        *int   `json:"total"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   *struct {
			Mode string `json:"mode"`
		} `json:"search"`
		Response *struct {
			Status   string `json:"status"`
			Location string `json:"location"`
			Etag     string `json:"etag"`
		} `json:"response"`
	} `json:"entry"`
}

// Next returns the URL of the next page, or "".
func (b *Bundle) Next() string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// SearchAll runs a search and follows next links (at most maxPages), returning the
// ids of the resources of type typ found in mode "match" (or without a mode).
func (c *Client) SearchAll(path, typ string, maxPages int) ([]string, error) {
	var ids []string
	for page := 0; path != ""; page++ {
		if page >= maxPages {
			return ids, fmt.Errorf("search %s: more than %d pages", path, maxPages)
		}
		resp, err := c.Do(http.MethodGet, path, nil, nil)
		if err != nil {
			return ids, err
		}
		if resp.Status != http.StatusOK {
			return ids, fmt.Errorf("search %s: %s", path, resp)
		}
		var b Bundle
		if err := json.Unmarshal(resp.Body, &b); err != nil {
			return ids, fmt.Errorf("search %s: %v", path, err)
		}
		for _, e := range b.Entry {
			if e.Search != nil && e.Search.Mode != "" && e.Search.Mode != "match" {
				continue
			}
			var head struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			}
			if json.Unmarshal(e.Resource, &head) == nil && head.ResourceType == typ {
				ids = append(ids, head.ID)
			}
		}
		path = b.Next()
	}
	return ids, nil
}

// IDFromLocation extracts the logical id from a Location such as
// http://host/fhir/Patient/123/_history/1 or Patient/123/_history/1.
func IDFromLocation(loc string) string {
	if i := strings.Index(loc, "/_history"); i >= 0 {
		loc = loc[:i]
	}
	return loc[strings.LastIndex(loc, "/")+1:]
}

// VersionFromETag extracts n from W/"n".
func VersionFromETag(etag string) string {
	etag = strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	return strings.Trim(etag, `"`)
}
