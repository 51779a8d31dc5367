package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of submitted JSON: deeper documents are refused before
// anything walks them recursively.
const MaxDepth = 64

// IDPattern is the R4 id datatype's pattern, as the base R4 JSON schema writes it.
const IDPattern = `^[A-Za-z0-9\-\.]{1,64}$`

// ValidID reports whether id is a valid FHIR logical id.
func ValidID(id string) bool {
	// by hand rather than by the pattern: every request path and every audit event
	// checks ids, and the regexp took a microsecond each (TestValidIDMatchesPattern
	// holds the two together)
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Resource is a submitted resource: its type, its id if it has one, and its JSON,
// compacted but otherwise exactly as sent.
type Resource struct {
	Type string
	ID   string
	Body []byte
}

// ParseResource checks that body is one JSON object of a known resource type, no
// deeper than MaxDepth, in strict FHIR JSON (see strictScan; a leading UTF-8 BOM is
// dropped), and returns it. It never re-marshals the content.
func ParseResource(body []byte) (*Resource, *Error) {
	body = TrimBOM(body)
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	var head struct {
		ResourceType json.RawMessage `json:"resourceType"`
		ID           json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, Errorf(http.StatusBadRequest, "structure", "", "body is not a JSON object: %v", err)
	}
	var typ, id string
	if head.ResourceType == nil || json.Unmarshal(head.ResourceType, &typ) != nil || typ == "" {
		return nil, Errorf(http.StatusBadRequest, "required", "resourceType", "resourceType is missing or not a string")
	}
	if !IsResourceType(typ) {
		return nil, Errorf(http.StatusBadRequest, "not-supported", "resourceType", "unknown resource type %q", typ)
	}
	if head.ID != nil && string(head.ID) != "null" {
		if json.Unmarshal(head.ID, &id) != nil || !ValidID(id) {
			return nil, Errorf(http.StatusBadRequest, "value", typ+".id", "id must match [A-Za-z0-9-.]{1,64}")
		}
	}
	if err := checkNarratives(typ, body); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return nil, Errorf(http.StatusBadRequest, "structure", "", "malformed JSON: %v", err)
	}
	return &Resource{Type: typ, ID: id, Body: buf.Bytes()}, nil
}

// checkJSON validates syntax, then depth with one pass over the bytes, so that a
// hostile document costs linear time and bounded stack (nothing recursive walks it
// before this).
func checkJSON(body []byte) *Error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Errorf(http.StatusBadRequest, "structure", "", "empty body")
	}
	if !json.Valid(trimmed) {
		var v json.RawMessage
		err := json.Unmarshal(trimmed, &v)
		if err == nil {
			err = fmt.Errorf("invalid JSON")
		}
		return Errorf(http.StatusBadRequest, "structure", "", "malformed JSON: %v", err)
	}
	if trimmed[0] != '{' {
		return Errorf(http.StatusBadRequest, "structure", "", "a resource must be a JSON object")
	}
	depth, inString, escaped := 0, false, false
	for _, c := range trimmed {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > MaxDepth {
				return Errorf(http.StatusBadRequest, "too-costly", "", "JSON nested deeper than %d levels", MaxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return strictScan(trimmed)
}

// Stamp returns body with id, meta.versionId and meta.lastUpdated set, everything else
// byte for byte as it was, top-level key order kept. id goes right after resourceType
// when it was absent, meta after id.
func Stamp(body []byte, id string, version int64, lastUpdated time.Time) ([]byte, error) {
	fields, err := objectFields(body)
	if err != nil {
		return nil, err
	}
	idJSON, _ := json.Marshal(id)
	meta, err := stampMeta(fields.get("meta"), version, lastUpdated)
	if err != nil {
		return nil, err
	}
	fields.set("id", idJSON, "resourceType")
	fields.set("meta", meta, "id")
	return fields.encode(), nil
}

// stampMeta sets versionId and lastUpdated in a meta object, keeping its other elements
// (profile, tag, security, source, extensions) as they were.
func stampMeta(raw json.RawMessage, version int64, lastUpdated time.Time) (json.RawMessage, error) {
	var mf *fieldList
	if raw == nil || string(raw) == "null" {
		mf = &fieldList{}
	} else {
		var err error
		if mf, err = objectFields(raw); err != nil {
			return nil, fmt.Errorf("meta: %w", err)
		}
	}
	v, _ := json.Marshal(strconv.FormatInt(version, 10))
	t, _ := json.Marshal(FormatInstant(lastUpdated))
	mf.set("versionId", v, "")
	mf.set("lastUpdated", t, "versionId")
	return mf.encode(), nil
}

// fieldList is a JSON object as an ordered list of raw members.
type fieldList struct {
	keys []string
	vals []json.RawMessage
}

// objectFields splits a JSON object into its members, each value kept as the exact
// bytes it was sent as. It scans the bytes once after json.Valid (encoding/json's
// token stream costs several times more, and this runs on every write).
func objectFields(body []byte) (*fieldList, error) {
	b := bytes.TrimSpace(body)
	if !json.Valid(b) {
		return nil, fmt.Errorf("invalid JSON")
	}
	return splitObject(b)
}

// splitObject is objectFields on JSON already known to be valid (a member of a
// validated document): no second validation pass.
func splitObject(b []byte) (*fieldList, error) {
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	fl := &fieldList{}
	i := skipSpace(b, 1)
	if b[i] == '}' {
		return fl, nil
	}
	for {
		end := stringEnd(b, i)
		raw := b[i:end]
		var key string
		if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			key = string(raw[1 : len(raw)-1])
		} else if err := json.Unmarshal(raw, &key); err != nil {
			return nil, err
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past ':'
		vend := valueEnd(b, i)
		fl.keys = append(fl.keys, key)
		fl.vals = append(fl.vals, json.RawMessage(b[i:vend]))
		i = skipSpace(b, vend)
		if b[i] == '}' {
			return fl, nil
		}
		i = skipSpace(b, i+1) // past ','
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the (valid) JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

func (f *fieldList) get(k string) json.RawMessage {
	for i, key := range f.keys {
		if key == k {
			return f.vals[i]
		}
	}
	return nil
}

// set replaces member k, or inserts it after member `after` (at the front when after is
// absent).
func (f *fieldList) set(k string, v json.RawMessage, after string) {
	for i, key := range f.keys {
		if key == k {
			f.vals[i] = v
			return
		}
	}
	pos := 0
	for i, key := range f.keys {
		if key == after {
			pos = i + 1
		}
	}
	f.keys = append(f.keys[:pos], append([]string{k}, f.keys[pos:]...)...)
	f.vals = append(f.vals[:pos], append([]json.RawMessage{v}, f.vals[pos:]...)...)
}

func (f *fieldList) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range f.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		b.Write(f.vals[i])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Member is a top-level member to set with SetMembers.
type Member struct {
	Key   string
	Value any // marshalled to JSON
}

// SetMembers returns the JSON object body with the members of set replaced (or
// appended, in the order given) and those named in del removed; every other member
// stays byte for byte where it was. It is how the server edits a stored resource (a
// status, a derived element) without re-marshalling what the sender wrote.
func SetMembers(body []byte, set []Member, del ...string) ([]byte, error) {
	fl, err := objectFields(body)
	if err != nil {
		return nil, err
	}
	for _, m := range set {
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		last := ""
		if n := len(fl.keys); n > 0 {
			last = fl.keys[n-1]
		}
		fl.set(m.Key, v, last)
	}
	out := &fieldList{}
	for i, k := range fl.keys {
		if !slices.Contains(del, k) {
			out.keys, out.vals = append(out.keys, k), append(out.vals, fl.vals[i])
		}
	}
	return out.encode(), nil
}

// FormatInstant renders meta.lastUpdated as the server stamps it.
func FormatInstant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// splitArray returns the items of a valid JSON array, each as its exact bytes.
func splitArray(b []byte) []json.RawMessage {
	var items []json.RawMessage
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != ']' {
		end := valueEnd(b, i)
		items = append(items, json.RawMessage(b[i:end]))
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return items
}
