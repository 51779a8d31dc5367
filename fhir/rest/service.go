// Package rest implements the FHIR R4 RESTful interactions (read, vread, create,
// update, patch, delete, search, history, batch, transaction) over a fhir.Store,
// stripped of HTTP: server/ turns requests into Requests and Responses into replies,
// and a transaction Bundle runs the very same code for each of its entries.
//
// One file per interaction, after Blaze.
package rest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Searcher is what the interactions need of the search engine (fhir/search).
type Searcher interface {
	// Index computes the search-index entries of a resource about to be stored.
	Index(typ string, body []byte) ([]fhir.IndexEntry, error)
	// StampEntries are the entries of what the server stamps: _id and _lastUpdated.
	StampEntries(id, lastUpdated string) []fhir.IndexEntry
	// Match returns the ids of typ matching a query string (conditional interactions).
	Match(tx fhir.Tx, typ, query string) ([]string, error)
	// Search runs a search; warnings report ignored parameters.
	Search(tx fhir.Tx, typ string, q url.Values, strict bool) (*SearchResult, []fhir.Issue, error)
	// Includes returns the _include/_revinclude resources of a page of matches.
	Includes(tx fhir.Tx, typ string, q url.Values, matches []*fhir.Record) ([]*fhir.Record, error)
	// Render applies _summary and _elements to a resource in a result.
	Render(body []byte, q url.Values) []byte
}

// SearchResult is a search's matches, in order.
type SearchResult struct {
	IDs []string
	// CountOnly is set for _summary=count.
	CountOnly bool
	// TotalMode is the _total asked for: "none", "estimate" or "accurate".
	TotalMode string
}

// Validator checks resources before they are stored (profiles/ implements it). A nil
// outcome or one without errors lets the write go on; warnings travel back to the
// client.
type Validator interface {
	// ValidateWrite checks one resource; generated marks resources the server made
	// itself, which are checked in full whatever they claim.
	ValidateWrite(typ string, body []byte, generated bool) *fhir.OperationOutcome
	// ValidateBundle checks a whole transaction Bundle before its entries run, so that
	// references between entries resolve.
	ValidateBundle(body []byte) *fhir.OperationOutcome
}

// WriteHook runs inside the write's store transaction, after a resource version was
// put, so that what it derives (pathway state, milestones, outbox rows) commits with
// the write or not at all. It may refuse the write with a *fhir.Error.
type WriteHook interface {
	AfterWrite(ctx context.Context, w *Writer, rec *fhir.Record) error
}

// PreStoreHook is an optional extension of a WriteHook: it completes a resource with
// what the gateway derives from it alone (a refill's computed next refill date) before
// the resource is stored, so that the derived elements belong to the very version the
// client wrote: one version, the client's If-Match untouched. It runs inside the
// write's store transaction, after validation, on every path that writes (create,
// update, patch, transaction entries); it must return body unchanged when it has
// nothing to add, add only elements the guide's profiles allow, and may refuse the
// write with a *fhir.Error.
type PreStoreHook interface {
	BeforeStore(w *Writer, typ, id string, body []byte) ([]byte, error)
}

// Service carries out the interactions.
type Service struct {
	Store    fhir.Store
	Engine   Searcher
	Validate Validator   // optional
	Hooks    []WriteHook // optional
	// BaseURL is the server's FHIR base, e.g. http://127.0.0.1:8080/fhir.
	BaseURL string
	// PageSize is the default _count; MaxPageSize caps it.
	PageSize, MaxPageSize int
	// Limits bound the work of one request (zero fields: the defaults).
	Limits Limits
	// Now is the clock (tests may stub it).
	Now func() time.Time
	// AfterCommit, when set, is called after every write transaction that committed
	// (to wake the notification worker).
	AfterCommit func()
}

// Request is one interaction, as parsed from HTTP or from a Bundle entry.
type Request struct {
	Method  string // GET, POST, PUT, PATCH, DELETE
	Type    string // empty for system-level interactions
	ID      string
	Version string // for vread
	// Query holds search parameters, or the criteria of a conditional interaction.
	Query url.Values
	Body  []byte
	// IfMatch, IfNoneExist, IfNoneMatch and IfModifiedSince are the HTTP headers (or the
	// Bundle entry's request elements).
	IfMatch, IfNoneExist, IfNoneMatch, IfModifiedSince string
	// Strict is Prefer: handling=strict.
	Strict bool
	// Op is the interaction's name once routed: read, vread, search-type, history-…
	Op string
	// Access confines the request to the client's grant; nil for the server itself.
	Access Access
	// BundleValidated says the server itself validated Body whole, as it stands, just
	// before (the referral intake does, to withdraw the profiles it assigned that are
	// not met): the transaction does not validate the same bytes a second time. Never
	// set from a client's request.
	BundleValidated bool
}

// Response is an interaction's result.
type Response struct {
	Status       int
	Location     string
	VersionID    int64
	LastModified time.Time
	// Body is the resource, Bundle or OperationOutcome to return (nil for none).
	Body []byte
	// Record is the version written or read, when there is one.
	Record *fhir.Record
	// Outcome holds warnings or information to pass on (Prefer: return=OperationOutcome).
	Outcome *fhir.OperationOutcome
}

// ETag renders the response's weak ETag, or "".
func (r *Response) ETag() string {
	if r.VersionID == 0 {
		return ""
	}
	return fmt.Sprintf(`W/"%d"`, r.VersionID)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) base() string { return strings.TrimRight(s.BaseURL, "/") }

// NewID returns a fresh logical id: a UUID version 7 (RFC 9562), valid as a FHIR id.
// Its first 48 bits are the time in milliseconds, so ids made close in time sort
// together: the store's keys that hold an id (current version, versions, index rows
// of _id and of references to new resources) are then appended rather than scattered,
// which is most of what a commit writes. The other 74 bits are random.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(time.Now().UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ParseETag reads a version from an If-Match value: W/"3", "3" or 3.
func ParseETag(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "W/")
	v = strings.Trim(v, `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0
}

// recordResponse answers with a stored version.
func recordResponse(status int, rec *fhir.Record) *Response {
	return &Response{
		Status: status, Record: rec, Body: rec.Body, VersionID: rec.Version,
		LastModified: rec.LastUpdated,
		Location:     fmt.Sprintf("%s/%s/_history/%d", rec.Type, rec.ID, rec.Version),
	}
}

func badRequest(code, expr, format string, args ...any) *fhir.Error {
	return fhir.Errorf(http.StatusBadRequest, code, expr, format, args...)
}

// update runs fn in a store write transaction and returns fn's response.
// pre holds index entries computed beforehand (preIndex), or nil.
func (s *Service) update(ctx context.Context, pre map[string][]fhir.IndexEntry, fn func(w *Writer) (*Response, error)) (*Response, error) {
	var resp *Response
	var warnings []fhir.Issue
	err := s.Store.Update(ctx, func(tx fhir.Tx) error {
		w := &Writer{s: s, tx: tx, ctx: ctx, now: s.now(), pre: pre}
		var err error
		resp, err = fn(w)
		warnings = w.warnings // the last run is the one that commits
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.AfterCommit != nil {
		s.AfterCommit()
	}
	if len(warnings) > 0 && resp != nil {
		if resp.Outcome == nil {
			resp.Outcome = fhir.NewOutcome()
		}
		resp.Outcome.Issue = append(resp.Outcome.Issue, warnings...)
	}
	return resp, nil
}

// view runs fn on a read snapshot.
func (s *Service) view(ctx context.Context, fn func(tx fhir.Tx) (*Response, error)) (*Response, error) {
	var resp *Response
	err := s.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		resp, err = fn(tx)
		return err
	})
	return resp, err
}

// Write runs fn in one store write transaction, as the server itself: for workers and
// hooks that derive resources (notification status, pathway state) outside a client's
// request. fn may run more than once.
func (s *Service) Write(ctx context.Context, fn func(w *Writer) error) error {
	_, err := s.update(ctx, nil, func(w *Writer) (*Response, error) { return nil, fn(w) })
	return err
}
