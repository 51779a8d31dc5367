package fhir

import (
	"bytes"
	"encoding/json"
)

// Bundle is the envelope of search results, history, batches and transactions.
// Resources stay raw JSON: the gateway never re-marshals what it stores.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Meta         *BundleMeta   `json:"meta,omitempty"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Total        *int          `json:"total,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry,omitempty"`
}

// BundleMeta is the meta of a Bundle the server generates.
type BundleMeta struct {
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Tag         []Coding `json:"tag,omitempty"`
}

// BundleLink is Bundle.link (self, next, previous, first, last).
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// BundleEntry is Bundle.entry.
type BundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *EntrySearch    `json:"search,omitempty"`
	Request  *EntryRequest   `json:"request,omitempty"`
	Response *EntryResponse  `json:"response,omitempty"`
}

// EntrySearch is Bundle.entry.search.
type EntrySearch struct {
	Mode string `json:"mode,omitempty"`
}

// EntryRequest is Bundle.entry.request.
type EntryRequest struct {
	Method          string `json:"method"`
	URL             string `json:"url"`
	IfNoneMatch     string `json:"ifNoneMatch,omitempty"`
	IfModifiedSince string `json:"ifModifiedSince,omitempty"`
	IfMatch         string `json:"ifMatch,omitempty"`
	IfNoneExist     string `json:"ifNoneExist,omitempty"`
}

// EntryResponse is Bundle.entry.response.
type EntryResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}

// NewBundle starts a Bundle of the given type.
func NewBundle(typ string) *Bundle {
	return &Bundle{ResourceType: "Bundle", Type: typ}
}

// JSON renders the Bundle without HTML escaping (resources keep their bytes).
func (b *Bundle) JSON() []byte {
	return MarshalNoEscape(b)
}

// MarshalNoEscape encodes v as JSON leaving <, > and & as they are, so that embedded
// raw resources keep their bytes (encoding/json would rewrite them as \u003c…).
func MarshalNoEscape(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // callers pass plain structs of strings and raw JSON
	return bytes.TrimRight(buf.Bytes(), "\n")
}
