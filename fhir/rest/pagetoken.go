package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// auxFrozenSearches is the store namespace where earlier versions kept a result set
// per paged search; nothing writes it any more (see DropFrozenSearches).
const auxFrozenSearches = "searchset"

// pageToken is the continuation of a search, carried whole in its page links
// (_getpages) instead of stored: the resource type, the query, and the instant of the
// first page, after which created resources are left out of later pages.
//
// It is not signed: it confers nothing. Every page checks the client's scopes and
// compartment again, so a forged token is only a search the client could have typed.
type pageToken struct {
	Type  string
	Query url.Values
	At    time.Time
}

// wireToken is pageToken's encoding.
type wireToken struct {
	T string `json:"t"`
	Q string `json:"q"`
	A int64  `json:"a"` // UnixNano
}

// encode renders the token for a link: base64url of a small JSON object.
func (t pageToken) encode() string {
	q := url.Values{}
	for k, v := range t.Query {
		switch k {
		case "_count", "_offset", "_after", "_getpages", "_format", "_pretty":
		default:
			q[k] = v
		}
	}
	b, _ := json.Marshal(wireToken{T: t.Type, Q: q.Encode(), A: t.At.UnixNano()})
	return base64.RawURLEncoding.EncodeToString(b)
}

// parsePageToken reads a _getpages value. A token of the earlier, stored kind (a
// bare id) has no result set any more: 410, run the search again.
func parsePageToken(s string) (pageToken, error) {
	expired := fhir.Errorf(http.StatusGone, "not-found", "_getpages", "this page link is no longer valid: run the search again")
	if s == "" {
		return pageToken{}, badRequest("required", "_getpages", "_getpages is empty")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageToken{}, expired
	}
	var w wireToken
	if err := json.Unmarshal(raw, &w); err != nil || !fhir.IsResourceType(w.T) {
		return pageToken{}, expired
	}
	q, err := url.ParseQuery(w.Q)
	if err != nil {
		return pageToken{}, expired
	}
	return pageToken{Type: w.T, Query: q, At: time.Unix(0, w.A).UTC()}, nil
}

// DropFrozenSearches deletes the result sets that earlier versions stored for every
// paged search (namespace "searchset"): paging no longer reads them, and they were
// never deleted. It runs at startup and returns how many it removed; a store that
// cannot drop a namespace is left as it is.
func DropFrozenSearches(ctx context.Context, store fhir.Store) (int, error) {
	d, ok := store.(fhir.AuxDropper)
	if !ok {
		return 0, nil
	}
	return d.DropAux(ctx, auxFrozenSearches)
}
