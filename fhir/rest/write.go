package rest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Writer writes resource versions inside one store transaction: it stamps id and
// meta, computes the index entries and runs the write hooks, so that every path that
// writes (a single interaction, a transaction entry, a hook's own derived resources)
// writes the same way.
type Writer struct {
	s   *Service
	tx  fhir.Tx
	ctx context.Context
	now time.Time
	// depth guards against hooks that keep triggering each other.
	depth int
	// pre holds index entries computed before the transaction (see preIndex), by
	// type and exact body.
	pre map[string][]fhir.IndexEntry
	// warnings raised by hooks, returned to the client with the response.
	warnings []fhir.Issue
}

// Warn adds issues (warnings, information) to the response of the write: a hook
// uses it to say what it did or could not do without refusing the write.
func (w *Writer) Warn(issues ...fhir.Issue) { w.warnings = append(w.warnings, issues...) }

// Warnings returns the issues raised so far in this transaction, in order: a hook
// reads those a check raised (the pathway records clinical ones as DetectedIssues).
func (w *Writer) Warnings() []fhir.Issue { return w.warnings }

// stampParams are the search parameters that read what the server stamps (id and
// meta.lastUpdated): they are indexed inside the transaction, directly from the
// stamped values; everything else is indexed from the content, before it.
var stampParams = map[string]bool{"_id": true, "_lastUpdated": true}

// preIndex computes the content index entries of resources about to be written,
// outside the store transaction: FHIRPath evaluation is the costliest part of a
// write, and inside the transaction it would run under the store's write lock, one
// request after another. A body that changes inside the transaction (a reference
// resolved differently) simply misses and is indexed there.
func (s *Service) preIndex(items ...preItem) map[string][]fhir.IndexEntry {
	pre := map[string][]fhir.IndexEntry{}
	for _, it := range items {
		if e, err := s.Engine.Index(it.typ, it.body); err == nil {
			pre[it.typ+"\x00"+string(it.body)] = e
		}
	}
	return pre
}

// preItem is one resource to pre-index.
type preItem struct {
	typ  string
	body []byte
}

// index returns the index entries of a version: content entries (pre-computed when
// possible) and the entries of the stamped id and lastUpdated.
func (w *Writer) index(typ, id string, body []byte) ([]fhir.IndexEntry, error) {
	content, ok := w.pre[typ+"\x00"+string(body)]
	if !ok {
		var err error
		if content, err = w.s.Engine.Index(typ, body); err != nil {
			return nil, err
		}
	}
	// the stamp's entries first: "_id" and "_lastUpdated" sort before the content's
	// parameters, so the store receives them in its order (and need not sort them)
	stamp := w.s.Engine.StampEntries(id, fhir.FormatInstant(w.now))
	out := make([]fhir.IndexEntry, 0, len(content)+len(stamp))
	out = append(out, stamp...)
	for _, e := range content {
		if !stampParams[e.Param] {
			out = append(out, e)
		}
	}
	return out, nil
}

// Tx is the transaction the writer writes in.
func (w *Writer) Tx() fhir.Tx { return w.tx }

// Now is the time stamped on every version of this transaction.
func (w *Writer) Now() time.Time { return w.now }

// Put stores a resource the server derives itself (a pathway CarePlan, a
// Communication, a Subscription's status) as the next version of typ/id. It is
// validated in full first, base R4 included: generated resources get no more trust
// than received ones. A resource that fails is a 422 naming what the write would have
// produced. ifMatch, when non-zero, must equal the current version (412 otherwise);
// method is recorded in history.
func (w *Writer) Put(typ, id string, body []byte, method string, ifMatch int64) (*fhir.Record, bool, error) {
	if w.s.Validate != nil {
		if oo := w.s.Validate.ValidateWrite(typ, body, true); oo != nil && oo.HasErrors() {
			for i := range oo.Issue {
				oo.Issue[i].Diagnostics = "the " + typ + " the gateway derives from this write would be invalid: " + oo.Issue[i].Diagnostics
			}
			return nil, false, &fhir.Error{Status: http.StatusUnprocessableEntity, Outcome: oo}
		}
	}
	return w.put(typ, id, body, method, ifMatch)
}

// put stores body, completed by the PreStoreHooks, as the next version of typ/id,
// already validated (a client's submission is, before its store transaction).
func (w *Writer) put(typ, id string, body []byte, method string, ifMatch int64) (*fhir.Record, bool, error) {
	cur, err := w.tx.Current(typ, id)
	var version int64 = 1
	created := true
	switch {
	case err == nil:
		version = cur.Version + 1
		created = cur.Deleted
	case errors.Is(err, fhir.ErrNotFound):
	default:
		return nil, false, err
	}
	if ifMatch != 0 && (cur == nil || cur.Version != ifMatch || cur.Deleted) {
		return nil, false, fhir.Errorf(http.StatusPreconditionFailed, "conflict", "", "If-Match version %d is not the current version of %s/%s", ifMatch, typ, id)
	}
	if body, err = w.beforeStore(typ, id, body); err != nil {
		return nil, false, err
	}
	stamped, err := fhir.Stamp(body, id, version, w.now)
	if err != nil {
		return nil, false, badRequest("structure", "", "cannot read resource: %v", err)
	}
	index, err := w.index(typ, id, body)
	if err != nil {
		return nil, false, err
	}
	rec := &fhir.Record{Type: typ, ID: id, Version: version, LastUpdated: w.now, Method: method, Body: stamped}
	if err := w.tx.Put(rec, index); err != nil {
		return nil, false, err
	}
	if err := w.runHooks(rec); err != nil {
		return nil, false, err
	}
	return rec, created, nil
}

// Delete writes a tombstone for typ/id. It reports false when there was nothing to
// delete (absent, or already deleted).
func (w *Writer) Delete(typ, id string) (*fhir.Record, bool, error) {
	cur, err := w.tx.Current(typ, id)
	if errors.Is(err, fhir.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if cur.Deleted {
		return cur, false, nil
	}
	rec := &fhir.Record{Type: typ, ID: id, Version: cur.Version + 1, LastUpdated: w.now, Method: http.MethodDelete, Deleted: true}
	if err := w.tx.Put(rec, nil); err != nil {
		return nil, false, err
	}
	if err := w.runHooks(rec); err != nil {
		return nil, false, err
	}
	return rec, true, nil
}

// beforeStore lets the PreStoreHooks complete body before it is stamped and stored.
func (w *Writer) beforeStore(typ, id string, body []byte) ([]byte, error) {
	for _, h := range w.s.Hooks {
		if ph, ok := h.(PreStoreHook); ok {
			var err error
			if body, err = ph.BeforeStore(w, typ, id, body); err != nil {
				return nil, err
			}
		}
	}
	return body, nil
}

func (w *Writer) runHooks(rec *fhir.Record) error {
	if len(w.s.Hooks) == 0 {
		return nil
	}
	if w.depth > 4 {
		return fhir.Errorf(http.StatusInternalServerError, "exception", "", "write hooks nested too deep")
	}
	w.depth++
	defer func() { w.depth-- }()
	for _, h := range w.s.Hooks {
		if err := h.AfterWrite(w.ctx, w, rec); err != nil {
			return err
		}
	}
	return nil
}

// Match returns the ids matching a conditional query inside this transaction.
func (w *Writer) Match(typ, query string) ([]string, error) {
	return w.s.Engine.Match(w.tx, typ, query)
}
