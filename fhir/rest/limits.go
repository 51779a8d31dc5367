package rest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/aitgw/aitgw/fhir"
)

// Limits bound the work one request may cause. Each is checked before the work it
// bounds starts (or, for what cannot be known beforehand, as soon as it is exceeded,
// with nothing written), and a refusal is a 413 or 422 with an OperationOutcome naming
// the limit. A zero field takes the default given beside it.
type Limits struct {
	// BundleEntries is the most entries a batch or transaction may carry (1,000).
	BundleEntries int
	// BatchSearches is the most entries of a batch or transaction that are searches
	// (50): each one is a whole search.
	BatchSearches int
	// PatchOps is the most operations in one JSON Patch (1,000).
	PatchOps int
	// PatchResult is the largest resource a JSON Patch may produce, in bytes (1 MiB);
	// copy operations are stopped as soon as they would pass it.
	PatchResult int
	// ResponseBytes is the largest search, history, $everything or batch response, in
	// bytes (32 MiB).
	ResponseBytes int
	// Includes is the most _include/_revinclude resources of one page (1,000).
	Includes int
	// Deadline is how long one request may run (30 s): it is then cancelled, and a
	// write in progress is rolled back.
	Deadline time.Duration
}

// Default limits.
const (
	DefaultBundleEntries = 1000
	DefaultBatchSearches = 50
	DefaultPatchOps      = 1000
	DefaultPatchResult   = 1 << 20
	DefaultResponseBytes = 32 << 20
	DefaultIncludes      = 1000
	DefaultDeadline      = 30 * time.Second
	DefaultPageSize      = 20
	DefaultMaxPageSize   = 1000
)

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (l Limits) bundleEntries() int { return orDefault(l.BundleEntries, DefaultBundleEntries) }
func (l Limits) batchSearches() int { return orDefault(l.BatchSearches, DefaultBatchSearches) }
func (l Limits) patchOps() int      { return orDefault(l.PatchOps, DefaultPatchOps) }
func (l Limits) patchResult() int   { return orDefault(l.PatchResult, DefaultPatchResult) }
func (l Limits) responseBytes() int { return orDefault(l.ResponseBytes, DefaultResponseBytes) }
func (l Limits) includes() int      { return orDefault(l.Includes, DefaultIncludes) }

// DeadlineOf is the request deadline of l.
func (l Limits) DeadlineOf() time.Duration { return orDefault(l.Deadline, DefaultDeadline) }

// tooLarge is a 413: the request is bigger than a limit allows.
func tooLarge(expr, format string, args ...any) *fhir.Error {
	return fhir.Errorf(http.StatusRequestEntityTooLarge, "too-long", expr, format, args...)
}

// tooCostly is a 422: the request is well-formed but would cost more than a limit
// allows.
func tooCostly(expr, format string, args ...any) *fhir.Error {
	return fhir.Errorf(http.StatusUnprocessableEntity, "too-costly", expr, format, args...)
}

// pageSize reads _count: default PageSize, 0 asks for the total alone; above
// MaxPageSize, a 422 (the client asked for more than one page may hold).
func (s *Service) pageSize(q url.Values) (int, error) {
	def, limit := orDefault(s.PageSize, DefaultPageSize), orDefault(s.MaxPageSize, DefaultMaxPageSize)
	v := q.Get("_count")
	if v == "" {
		return min(def, limit), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("value", "_count", "_count must be a non-negative integer, not %q", v)
	}
	if n > limit {
		return 0, tooCostly("_count", "_count=%d is more than the %d a page may hold (--max-count): page through the results", n, limit)
	}
	return n, nil
}

// checkIncludes refuses more _include/_revinclude parameters than a page could fan out
// to usefully, before the search runs.
func (s *Service) checkIncludes(q url.Values) error {
	n := 0
	for k, v := range q {
		if strings.HasPrefix(k, "_include") || strings.HasPrefix(k, "_revinclude") {
			n += len(v)
		}
	}
	if n > 20 {
		return tooCostly("_include", "%d _include/_revinclude parameters: at most 20", n)
	}
	return nil
}

// boundedIncluder is a Searcher that stops including once a limit is passed, its
// walk confined by see (nil: unconfined).
type boundedIncluder interface {
	IncludesConfinedUpTo(tx fhir.Tx, typ string, q url.Values, matches []*fhir.Record, see Confiner, limit int) ([]*fhir.Record, error)
}

// checkResponse refuses a response body larger than ResponseBytes.
func (s *Service) checkResponse(r *Response) error {
	if r != nil && len(r.Body) > s.Limits.responseBytes() {
		return tooCostly("", "the response would be %d bytes, more than the %d allowed (--max-response): ask for a smaller _count or fewer _include", len(r.Body), s.Limits.responseBytes())
	}
	return nil
}

// decodePatch reads a JSON Patch document, refusing more operations than PatchOps.
func (s *Service) decodePatch(body []byte) (jsonpatch.Patch, error) {
	patch, err := jsonpatch.DecodePatch(body)
	if err != nil {
		return nil, badRequest("structure", "", "not a JSON Patch document: %v", err)
	}
	if len(patch) > s.Limits.patchOps() {
		return nil, tooLarge("", "the JSON Patch has %d operations, more than the %d allowed (--max-patch-ops)", len(patch), s.Limits.patchOps())
	}
	return patch, nil
}

// applyPatch applies patch to doc, stopping copy operations as soon as they would
// grow the resource past PatchResult, and refusing a larger result.
func (s *Service) applyPatch(patch jsonpatch.Patch, doc []byte) ([]byte, error) {
	limit := s.Limits.patchResult()
	opts := jsonpatch.NewApplyOptions()
	opts.AccumulatedCopySizeLimit = int64(limit)
	out, err := patch.ApplyWithOptions(doc, opts)
	var big *jsonpatch.AccumulatedCopySizeError
	if errors.As(err, &big) || (err == nil && len(out) > limit) {
		return nil, tooLarge("", "the JSON Patch would make a resource larger than %d bytes (--max-patch-result)", limit)
	}
	if err != nil {
		if errors.Is(err, jsonpatch.ErrTestFailed) {
			return nil, fhir.Errorf(http.StatusUnprocessableEntity, "processing", "", "JSON Patch test failed: %v", err)
		}
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "processing", "", "JSON Patch cannot be applied: %v", err)
	}
	return out, nil
}

// checkBundle refuses a batch or transaction with more entries, or more searches,
// than the limits allow, before any entry is read.
func (s *Service) checkBundle(entries int, searches int) error {
	if entries > s.Limits.bundleEntries() {
		return tooLarge("Bundle.entry", "the Bundle has %d entries, more than the %d allowed (--max-bundle-entries): split it", entries, s.Limits.bundleEntries())
	}
	if searches > s.Limits.batchSearches() {
		return tooCostly("Bundle.entry", "the Bundle has %d search entries, more than the %d allowed (--max-batch-searches)", searches, s.Limits.batchSearches())
	}
	return nil
}

// WithDeadline returns ctx bounded by the request deadline.
func (s *Service) WithDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.Limits.DeadlineOf())
}
