package rest

import (
	"context"
	"net/http"
	"sort"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/aitgw/aitgw/fhir"
)

// processing order of a transaction (FHIR R4 §3.1.0.11.2): deletes, creates,
// updates and patches, then reads.
var transactionOrder = []string{http.MethodDelete, http.MethodPost, http.MethodPut, http.MethodPatch}

// transaction runs all entries in one store transaction: all succeed or nothing is
// written. urn:uuid and other fullUrls, and conditional references
// (Patient?identifier=…), are resolved everywhere in the Bundle first.
func (s *Service) transaction(ctx context.Context, ops []*entryOp, prefer string) (*Response, error) {
	if err := checkDistinctTargets(ops); err != nil {
		return nil, err
	}
	if err := checkFullURLs(ops); err != nil {
		return nil, err
	}
	patches := map[int]jsonpatch.Patch{}
	for _, op := range ops {
		if op.req.Method == http.MethodPatch {
			p, err := s.decodePatch(op.req.Body)
			if err != nil {
				return nil, entryError(op.index, err)
			}
			patches[op.index] = p
		}
	}
	for _, op := range ops {
		op.newID = NewID() // stable across re-runs of the transaction function
	}
	_, err := s.update(ctx, s.preIndexTransaction(ctx, ops), func(w *Writer) (*Response, error) {
		for _, op := range ops {
			op.resp, op.target = nil, ""
		}
		refs, err := w.assignTargets(ops)
		if err != nil {
			return nil, err
		}
		key := refsKey(refs) // once per run: per entry, it made a transaction quadratic
		for _, method := range transactionOrder {
			for _, op := range ops {
				if op.req.Method != method {
					continue
				}
				if err := ctx.Err(); err != nil {
					return nil, err // past the deadline: roll back, write nothing
				}
				n := len(w.warnings)
				if op.resp, err = w.runEntry(op, refs, key, patches[op.index]); err != nil {
					return nil, entryError(op.index, err)
				}
				entryWarnings(op.resp, w.warnings[n:])
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		if op.req.Method == http.MethodGet {
			if op.resp, err = s.runGet(ctx, op.req); err != nil {
				return nil, entryError(op.index, err)
			}
		}
	}
	b := fhir.NewBundle("transaction-response")
	for _, op := range ops {
		b.Entry = append(b.Entry, s.entryResponse(op, prefer))
	}
	return s.bundleResponse(b, nil), nil
}

// checkFullURLs refuses two entries with the same fullUrl, which would make a
// reference to it ambiguous, and a urn:uuid or urn:oid reference that no entry's
// fullUrl resolves, which would be stored dangling.
func checkFullURLs(ops []*entryOp) error {
	seen := map[string]int{}
	for _, op := range ops {
		if op.fullURL == "" {
			continue
		}
		if j, ok := seen[op.fullURL]; ok {
			return entryError(op.index, badRequest("invalid", "fullUrl", "entries %d and %d have the same fullUrl %s", j, op.index, op.fullURL))
		}
		seen[op.fullURL] = op.index
	}
	for _, op := range ops {
		if op.res == nil {
			continue
		}
		for _, r := range fhir.References(op.res.Type, op.res.Body) {
			if !strings.HasPrefix(r.Value, "urn:uuid:") && !strings.HasPrefix(r.Value, "urn:oid:") {
				continue
			}
			if _, ok := seen[r.Value]; !ok {
				return entryError(op.index, badRequest("not-found", r.Expression, "%s is %s, which is the fullUrl of no entry of this transaction", r.Expression, r.Value))
			}
		}
	}
	return nil
}

// checkDistinctTargets refuses two entries on the same resource, as the specification
// requires.
func checkDistinctTargets(ops []*entryOp) error {
	seen := map[string]int{}
	for _, op := range ops {
		r := op.req
		if r.Method == http.MethodGet || r.ID == "" {
			continue
		}
		k := r.Type + "/" + r.ID
		if j, ok := seen[k]; ok {
			return entryError(op.index, badRequest("invalid", "request.url", "entries %d and %d both act on %s", j, op.index, k))
		}
		seen[k] = op.index
	}
	return nil
}

// assignTargets gives each create its id (or the match of its ifNoneExist), resolves
// conditional updates, and returns the map from every fullUrl to its Type/id.
func (w *Writer) assignTargets(ops []*entryOp) (map[string]string, error) {
	refs := map[string]string{}
	for _, op := range ops {
		r := op.req
		switch {
		case r.Method == http.MethodPost:
			id := ""
			if r.IfNoneExist != "" {
				ids, err := w.matchAs(r.Access, r.Type, r.IfNoneExist)
				if err != nil {
					return nil, entryError(op.index, err)
				}
				if len(ids) > 1 {
					return nil, entryError(op.index, fhir.Errorf(http.StatusPreconditionFailed, "duplicate", "request.ifNoneExist", "ifNoneExist matches %d %s resources", len(ids), r.Type))
				}
				if len(ids) == 1 {
					id = ids[0]
					cur, err := w.tx.Current(r.Type, id)
					if err != nil {
						return nil, err
					}
					op.resp = recordResponse(http.StatusOK, cur)
				}
			}
			if id == "" {
				id = op.newID
			}
			op.target = r.Type + "/" + id
		case r.Method == http.MethodPut && r.ID == "":
			ids, err := w.matchAs(r.Access, r.Type, r.Query.Encode())
			if err != nil {
				return nil, entryError(op.index, err)
			}
			switch {
			case len(ids) > 1:
				return nil, entryError(op.index, fhir.Errorf(http.StatusPreconditionFailed, "multiple-matches", "request.url", "conditional update criteria match %d %s resources", len(ids), r.Type))
			case len(ids) == 1:
				op.target = r.Type + "/" + ids[0]
			case op.res.ID != "":
				op.target = r.Type + "/" + op.res.ID
			default:
				op.target = r.Type + "/" + op.newID
			}
		case r.ID != "":
			op.target = r.Type + "/" + r.ID
		}
		if op.fullURL != "" && op.target != "" {
			refs[op.fullURL] = op.target
		}
	}
	return refs, nil
}

// runEntry carries out one write entry inside the transaction; refsKey is
// refsKey(refs).
func (w *Writer) runEntry(op *entryOp, refs map[string]string, refsKey string, patch jsonpatch.Patch) (*Response, error) {
	r := op.req
	typ, id, _ := strings.Cut(op.target, "/")
	switch r.Method {
	case http.MethodDelete:
		ifMatch, err := ifMatchVersion(r.IfMatch)
		if err != nil {
			return nil, err
		}
		return w.delete(r.Access, r.Type, r.ID, r.Query.Encode(), ifMatch)
	case http.MethodPatch:
		ifMatch, err := ifMatchVersion(r.IfMatch)
		if err != nil {
			return nil, err
		}
		resp, _, err := w.patch(r.Access, r.Type, r.ID, r.Query.Encode(), patch, ifMatch)
		return w.written(r.Access, "patch")(resp, err)
	}
	if op.resp != nil { // ifNoneExist matched: nothing to write
		return op.resp, nil
	}
	body := op.resolved
	if body == nil || op.resolvedWith != refsKey {
		var err error
		if body, _, err = w.resolveReferences(r.Access, op.res.Body, refs); err != nil {
			return nil, err
		}
	}
	res := &fhir.Resource{Type: typ, ID: id, Body: body}
	switch r.Method {
	case http.MethodPost:
		rec, _, err := w.put(typ, id, body, http.MethodPost, 0)
		if err != nil {
			return nil, err
		}
		return w.written(r.Access, "create")(recordResponse(http.StatusCreated, rec), nil)
	default: // PUT, by id or resolved condition
		ifMatch, err := ifMatchVersion(r.IfMatch)
		if err != nil {
			return nil, err
		}
		if err := w.preexisting(r.Access, "update", typ, id); err != nil {
			return nil, err
		}
		return w.written(r.Access, "update")(w.updateByID(res, id, ifMatch, http.MethodPut))
	}
}

// resolveReferences rewrites references to other entries' fullUrls, and conditional
// references, to the ids they resolved to.
// It also reports whether the body holds conditional references, whose resolution
// depends on the store's state, not only on refs.
func (w *Writer) resolveReferences(a Access, body []byte, refs map[string]string) ([]byte, bool, error) {
	var failure error
	conditional := false
	out, err := fhir.RewriteReferences(body, func(ref string) (string, bool) {
		if t, ok := refs[ref]; ok {
			return t, true
		}
		typ, query, isCond := strings.Cut(ref, "?")
		if !isCond || !fhir.IsResourceType(typ) {
			return "", false
		}
		conditional = true
		ids, err := w.matchAs(a, typ, query)
		switch {
		case err != nil:
			failure = err
		case len(ids) == 1:
			return typ + "/" + ids[0], true
		case len(ids) == 0:
			failure = fhir.Errorf(http.StatusPreconditionFailed, "not-found", "", "conditional reference %s matches no resource", ref)
		default:
			failure = fhir.Errorf(http.StatusPreconditionFailed, "multiple-matches", "", "conditional reference %s matches %d resources", ref, len(ids))
		}
		return "", false
	})
	if failure != nil {
		return nil, conditional, failure
	}
	if err != nil {
		return nil, conditional, badRequest("structure", "", "cannot read resource: %v", err)
	}
	return out, conditional, nil
}

// preIndexTransaction resolves the entries on a snapshot, as the transaction will
// most likely resolve them, and indexes the resulting bodies ahead of it. Inside the
// transaction everything is resolved again; only identical bodies reuse the entries.
func (s *Service) preIndexTransaction(ctx context.Context, ops []*entryOp) map[string][]fhir.IndexEntry {
	var items []preItem
	_ = s.Store.View(ctx, func(tx fhir.Tx) error {
		w := &Writer{s: s, tx: tx, ctx: ctx}
		refs, err := w.assignTargets(ops)
		if err != nil {
			return err
		}
		key := refsKey(refs)
		for _, op := range ops {
			if op.res == nil || op.resp != nil {
				continue
			}
			if body, conditional, err := w.resolveReferences(op.req.Access, op.res.Body, refs); err == nil {
				items = append(items, preItem{op.res.Type, body})
				if !conditional { // resolved by refs alone: reused under the lock if refs are the same
					op.resolved, op.resolvedWith = body, key
				}
			}
		}
		return nil
	})
	for _, op := range ops {
		op.resp, op.target = nil, ""
	}
	return s.preIndex(items...)
}

// refsKey renders a fullUrl → target map canonically, to tell whether a transaction
// resolved its entries the same way before its store transaction and inside it.
func refsKey(refs map[string]string) string {
	keys := make([]string, 0, len(refs))
	for k := range refs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('\x00')
		b.WriteString(refs[k])
		b.WriteByte('\x00')
	}
	return b.String()
}

// entryWarnings gives an entry's response the warnings its write raised (the hooks'
// clinical warnings), so that each entry's response.outcome carries its own.
func entryWarnings(resp *Response, issues []fhir.Issue) {
	if resp == nil || len(issues) == 0 {
		return
	}
	oo := fhir.NewOutcome()
	if resp.Outcome != nil {
		oo.Issue = append(oo.Issue, resp.Outcome.Issue...)
	}
	oo.Issue = append(oo.Issue, issues...)
	resp.Outcome = oo
}
