package search

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/buger/jsonparser"
	"github.com/gofhir/fhirpath/eval"
	"github.com/gofhir/fhirpath/types"
)

// Index evaluates every search parameter of typ on body (the resource JSON as it will
// be stored, id and meta already stamped) and returns one entry per distinct value
// form, keyed as documented in keys.go. The JSON is wrapped once and every expression
// is evaluated on that same lazily-parsed value. An expression that fails to evaluate
// is an error: silently missing index rows would make searches lie.
func (r *Registry) Index(typ string, body []byte) ([]fhir.IndexEntry, error) {
	return r.IndexOnly(typ, body, nil)
}

// IndexOnly is Index restricted to the parameters named in codes (all when nil): the
// server indexes the parameters that read what it stamps (_id, _lastUpdated) inside
// the write transaction, and everything else before it.
func (r *Registry) IndexOnly(typ string, body []byte, codes map[string]bool) ([]fhir.IndexEntry, error) {
	return r.index(typ, body, codes, false)
}

// index computes the entries; raw keeps keys whole (capKey not applied), to check a
// candidate found by a capped key against its full values.
func (r *Registry) index(typ string, body []byte, codes map[string]bool, raw bool) ([]fhir.IndexEntry, error) {
	lc := &lazyContext{body: body}
	present := topLevel(body)
	native := !r.fhirpathOnly
	var out []fhir.IndexEntry
	memo := componentMemo{native: native}
	for _, p := range r.indexed(typ) {
		if codes != nil && !codes[p.Code] || codes == nil && r.isDerived(typ, p.Code) {
			continue // not asked for, or stored as its sources' rows (derived.go)
		}
		expr, err := p.compiled()
		if err != nil {
			return nil, err
		}
		vals, err := p.evaluate(lc, expr, present, native)
		if err != nil {
			return nil, fmt.Errorf("search parameter %s.%s: %w", typ, p.Code, err)
		}
		if len(vals) == 0 {
			continue
		}
		var keys [][]byte
		if p.Type == "composite" {
			keys, err = r.compositeKeys(p, vals, &memo)
			if err != nil {
				return nil, fmt.Errorf("search parameter %s.%s: %w", typ, p.Code, err)
			}
		} else {
			for _, v := range vals {
				keys = valueKeys(p.Type, v, keys)
			}
		}
		// codes are distinct (Params), so a duplicate can only be among this
		// parameter's own keys, a handful: compared directly, with no map of strings
		first := len(out)
	keys:
		for _, k := range keys {
			if !raw {
				k = capKey(k)
			}
			for _, e := range out[first:] {
				if bytes.Equal(e.Key, k) {
					continue keys
				}
			}
			out = append(out, fhir.IndexEntry{Param: p.Code, Key: k})
		}
	}
	// in the store's order: sorted here, before the store's write transaction, the
	// store need not sort them while it holds the write lock
	slices.SortFunc(out, fhir.CompareIndexEntries)
	return out, nil
}

// newEvalContext wraps body for evaluation, with the type-only resolver.
func newEvalContext(body []byte) *eval.Context {
	ctx := eval.NewContext(body)
	ctx.SetResolver(typeResolver{})
	if m := theModel(); m != nil {
		ctx.SetModel(m)
	}
	return ctx
}

// valueKeys appends the keys of one value of a parameter of type ptype.
func valueKeys(ptype string, v types.Value, keys [][]byte) [][]byte {
	switch ptype {
	case "token":
		return tokenKeys(v, keys)
	case "string":
		return stringKeys(v, keys)
	case "reference":
		return referenceKeys(v, keys)
	case "uri":
		if s := primitive(v); s != "" {
			keys = append(keys, key(tagURI, s))
		}
		return keys
	case "date":
		if lo, hi, ok := interval(v); ok {
			keys = append(keys, intervalKeys(lo, hi)...)
		}
		return keys
	case "number":
		if f, err := strconv.ParseFloat(primitive(v), 64); err == nil {
			keys = append(keys, appendFloat([]byte{tagNumber}, f))
		}
		return keys
	case "quantity":
		return quantityKeys(v, keys)
	}
	return keys
}

// primitive returns the text of a primitive value, "" for objects.
func primitive(v types.Value) string {
	switch x := v.(type) {
	case types.String:
		return x.Value()
	case *types.ObjectValue:
		return ""
	case nil:
		return ""
	}
	return v.String()
}

// field reads a string member of a JSON object.
func field(data []byte, path ...string) string {
	s, err := jsonparser.GetString(data, path...)
	if err != nil {
		return ""
	}
	return s
}

// eachString calls fn for every string of the array (or single string) at path.
func eachString(data []byte, fn func(string), path ...string) {
	v, t, _, err := jsonparser.Get(data, path...)
	if err != nil {
		return
	}
	switch t {
	case jsonparser.String:
		if s, err := jsonparser.ParseString(v); err == nil {
			fn(s)
		}
	case jsonparser.Array:
		jsonparser.ArrayEach(v, func(e []byte, et jsonparser.ValueType, _ int, _ error) {
			if et == jsonparser.String {
				if s, err := jsonparser.ParseString(e); err == nil {
					fn(s)
				}
			}
		})
	}
}

// contactSystems are the ContactPoint.system codes: a ContactPoint is searched by its
// value alone, unlike an Identifier whose system is a URI.
var contactSystems = map[string]bool{"phone": true, "fax": true, "email": true, "pager": true,
	"url": true, "sms": true, "other": true}

// tokenKeys indexes Coding, CodeableConcept, Identifier, ContactPoint and primitive
// codes (code, boolean, string, id, uri).
func tokenKeys(v types.Value, keys [][]byte) [][]byte {
	o, ok := v.(*types.ObjectValue)
	if !ok {
		if s := primitive(v); s != "" {
			keys = append(keys, key(tagCode, s), key(tagNoSys, s))
		}
		return keys
	}
	data := o.Data()
	coding := func(c []byte) {
		keys = codingKeys(keys, field(c, "system"), field(c, "code"), field(c, "display"))
	}
	if arr, t, _, err := jsonparser.Get(data, "coding"); err == nil && t == jsonparser.Array {
		jsonparser.ArrayEach(arr, func(c []byte, ct jsonparser.ValueType, _ int, _ error) {
			if ct == jsonparser.Object {
				coding(c)
			}
		})
		if txt := field(data, "text"); txt != "" {
			keys = append(keys, key(tagText, normalize(txt)))
		}
		return keys
	}
	if value := field(data, "value"); value != "" { // Identifier or ContactPoint
		sys := field(data, "system")
		if contactSystems[sys] {
			return append(keys, key(tagCode, value), key(tagNoSys, value))
		}
		keys = append(keys, key(tagCode, value), key(tagSysCode, sys, value))
		if sys == "" {
			keys = append(keys, key(tagNoSys, value))
		}
		if txt := field(data, "type", "text"); txt != "" {
			keys = append(keys, key(tagText, normalize(txt)))
		}
		return keys
	}
	coding(data)
	return keys
}

// codingKeys appends the keys of one Coding: code alone, system|code, |code when it
// has no system, and its display as text.
func codingKeys(keys [][]byte, sys, code, display string) [][]byte {
	if code != "" {
		keys = append(keys, key(tagCode, code), key(tagSysCode, sys, code))
		if sys == "" {
			keys = append(keys, key(tagNoSys, code))
		}
	}
	if display != "" {
		keys = append(keys, key(tagText, normalize(display)))
	}
	return keys
}

// skippedStringFields are the members of HumanName/Address that are not text to
// search (use, type are codes; period is a date).
var skippedStringFields = map[string]bool{"use": true, "type": true, "id": true}

// stringKeys indexes a plain string, or every text member of HumanName and Address
// (family, given, prefix, suffix, text, line, city, district, state, postalCode,
// country).
func stringKeys(v types.Value, keys [][]byte) [][]byte {
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			keys = append(keys, key(tagPrefix, normalize(s)), key(tagExact, s))
		}
	}
	o, ok := v.(*types.ObjectValue)
	if !ok {
		add(primitive(v))
		return keys
	}
	jsonparser.ObjectEach(o.Data(), func(k, val []byte, t jsonparser.ValueType, _ int) error {
		if skippedStringFields[string(k)] {
			return nil
		}
		switch t {
		case jsonparser.String:
			if s, err := jsonparser.ParseString(val); err == nil {
				add(s)
			}
		case jsonparser.Array:
			eachString(val, add)
		}
		return nil
	})
	return keys
}

// referenceKeys indexes a Reference (literal reference and logical identifier) or a
// canonical/uri used as a reference.
func referenceKeys(v types.Value, keys [][]byte) [][]byte {
	ref := primitive(v)
	if o, ok := v.(*types.ObjectValue); ok {
		ref = field(o.Data(), "reference")
		if val := field(o.Data(), "identifier", "value"); val != "" {
			keys = append(keys, key(tagRefIdent, field(o.Data(), "identifier", "system"), val))
		}
	}
	return literalRefKeys(keys, ref)
}

// literalRefKeys appends the keys of a literal reference (relative, absolute or
// canonical); a local reference (#id) or an empty one has none.
func literalRefKeys(keys [][]byte, ref string) [][]byte {
	if ref == "" || strings.HasPrefix(ref, "#") {
		return keys
	}
	if i := strings.Index(ref, "/_history/"); i >= 0 && !strings.Contains(ref, "://") {
		ref = ref[:i]
	}
	keys = append(keys, key(tagRef, ref))
	if i := strings.IndexByte(ref, '|'); i >= 0 { // canonical with version
		keys = append(keys, key(tagRef, ref[:i]))
	}
	if parts := strings.Split(ref, "/"); len(parts) == 2 && fhir.IsResourceType(parts[0]) {
		keys = append(keys, key(tagRefID, parts[1]))
	}
	return keys
}

// interval returns the time interval of a date, dateTime, instant, Period or Timing.
func interval(v types.Value) (lo, hi int64, ok bool) {
	o, isObj := v.(*types.ObjectValue)
	if !isObj {
		return parseFHIRTime(primitive(v))
	}
	data := o.Data()
	start, end := field(data, "start"), field(data, "end")
	if start != "" || end != "" { // Period
		lo, hi = minInstant, maxInstant
		if l, _, ok := parseFHIRTime(start); ok {
			lo = l
		}
		if _, h, ok := parseFHIRTime(end); ok {
			hi = h
		}
		return lo, hi, start != "" || end != ""
	}
	// Timing: from the first to the last event, or its bounds.
	lo, hi = maxInstant, minInstant
	eachString(data, func(s string) {
		if l, h, ok2 := parseFHIRTime(s); ok2 {
			lo, hi, ok = min(lo, l), max(hi, h), true
		}
	}, "event")
	if bs, be := field(data, "repeat", "boundsPeriod", "start"), field(data, "repeat", "boundsPeriod", "end"); bs != "" || be != "" {
		l, _, okS := parseFHIRTime(bs)
		_, h, okE := parseFHIRTime(be)
		if !okS {
			l = minInstant
		}
		if !okE {
			h = maxInstant
		}
		lo, hi, ok = min(lo, l), max(hi, h), true
	}
	return lo, hi, ok
}

// quantityKeys indexes a Quantity (value with its system|code and its unit), or a
// bare number.
func quantityKeys(v types.Value, keys [][]byte) [][]byte {
	o, ok := v.(*types.ObjectValue)
	if !ok {
		if q, isQ := v.(types.Quantity); isQ {
			f, _ := q.Value().Float64()
			return append(keys, appendFloat([]byte{tagQty}, f), appendFloat(key(tagQtyCode, q.Unit()), f))
		}
		return keys
	}
	data := o.Data()
	raw, t, _, err := jsonparser.Get(data, "value")
	if err != nil || t != jsonparser.Number {
		return keys
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return keys
	}
	keys = append(keys, appendFloat([]byte{tagQty}, f))
	sys, code, unit := field(data, "system"), field(data, "code"), field(data, "unit")
	if code != "" {
		keys = append(keys, appendFloat(key(tagQtySysCode, sys, code), f), appendFloat(key(tagQtyCode, code), f))
	}
	if unit != "" && unit != code {
		keys = append(keys, appendFloat(key(tagQtyCode, unit), f))
	}
	return keys
}

// compositeKeys indexes a two-component composite parameter (code-value-quantity,
// code-value-concept, component-code-value-quantity…): for each value of the
// composite expression, every exact token key of the first component joined to every
// key of the second.
func (r *Registry) compositeKeys(p *Param, vals types.Collection, memo *componentMemo) ([][]byte, error) {
	if len(p.Components) != 2 {
		return nil, nil // three-part composites are not indexed
	}
	first, second := r.byCanonical(p.Components[0].Definition), r.byCanonical(p.Components[1].Definition)
	if first == nil || second == nil || first.Type != "token" {
		return nil, nil
	}
	var keys [][]byte
	for _, item := range vals {
		o, ok := item.(*types.ObjectValue)
		if !ok {
			continue
		}
		k1, err := memo.keys(o.Data(), &p.Components[0], exactTokens)
		if err != nil {
			return nil, err
		}
		k2, err := memo.keys(o.Data(), &p.Components[1], second.Type)
		if err != nil {
			return nil, err
		}
		for _, a := range k1 {
			for _, b := range k2 {
				k := append(append([]byte{tagComposite}, a...), b...)
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// componentMemo keeps, during the indexing of one resource, the values of composite
// components: Observation's composites (code-value-quantity, combo-code-value-quantity,
// code-value-concept…) evaluate the same components ("code", "value.as(Quantity)")
// on the same items, each of them otherwise once per composite.
type componentMemo struct {
	items  []memoItem
	native bool // plain-path components are walked on the JSON (native.go)
}

type memoItem struct {
	data    []byte // the item's JSON, as the evaluation returned it
	ctx     *lazyContext
	present members
	values  map[string]types.Collection // by component expression
	keys    map[string][][]byte         // by key kind and component expression
}

// exactTokens is the key kind of a composite's first component: its token keys
// that name a code exactly (code, system|code).
const exactTokens = "token-exact"

// keys returns the keys of c on the item whose JSON is data, of kind ptype (a
// parameter type, or exactTokens): each composite sharing the component reads the
// same keys, made once. Callers must not modify them.
func (m *componentMemo) keys(data []byte, c *Component, ptype string) ([][]byte, error) {
	vals, err := m.evaluate(data, c)
	if err != nil {
		return nil, err
	}
	it := m.item(data)
	id := ptype + "\x00" + c.Expression
	if k, ok := it.keys[id]; ok {
		return k, nil
	}
	var out [][]byte
	for _, v := range vals {
		if ptype != exactTokens {
			out = valueKeys(ptype, v, out)
			continue
		}
		for _, k := range tokenKeys(v, nil) {
			if k[0] == tagCode || k[0] == tagSysCode {
				out = append(out, k)
			}
		}
	}
	it.keys[id] = out
	return out, nil
}

// item returns the memo of the item whose JSON is data, adding it on first use.
// The pointer is valid until the next item is added.
func (m *componentMemo) item(data []byte) *memoItem {
	for i := range m.items {
		if sameBytes(m.items[i].data, data) {
			return &m.items[i]
		}
	}
	m.items = append(m.items, memoItem{data: data, ctx: &lazyContext{body: data}, present: topLevel(data),
		values: map[string]types.Collection{}, keys: map[string][][]byte{}})
	return &m.items[len(m.items)-1]
}

// evaluate returns the values of c on the item whose JSON is data.
func (m *componentMemo) evaluate(data []byte, c *Component) (types.Collection, error) {
	it := m.item(data)
	if v, ok := it.values[c.Expression]; ok {
		return v, nil
	}
	v, err := c.evaluate(it.ctx, it.present, m.native)
	if err != nil {
		return nil, err
	}
	it.values[c.Expression] = v
	return v, nil
}

// sameBytes reports whether a and b are the same slice of memory (the same item of
// the resource), not merely equal bytes.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
