package smart

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/search"
)

// EventValidator checks what the audit log generates against base R4
// (profiles.Validator does).
type EventValidator interface {
	// Validate checks a whole resource.
	Validate(body []byte, profileURLs ...string) *fhir.OperationOutcome
	// CheckPrimitive checks one value of an R4 primitive type, by the rule Validate
	// applies to it.
	CheckPrimitive(typ, value string) error
}

// auditCheck validates every AuditEvent before it is stored, at the cost of a map
// lookup and a few pattern matches rather than a full schema validation (~90 µs, more
// than the read it audits). An event is its shape (the JSON with each varying value
// replaced by a valid placeholder of its type) filled with its values. Base R4
// validation of a resource without profiles is its JSON schema, which checks each
// element on its own: the event is valid exactly when its shape is and each value is
// valid for its type. So each distinct shape (a few dozen: which agents, entities and
// optional elements are present) is validated once, in full, and each value always.
//
// It is used by one goroutine at a time (the audit log's writer).
type auditCheck struct {
	v EventValidator
	// shapes are the verdicts by shape hash (64 bits: a collision among the few dozen
	// shapes there are is a chance of about 1 in 10^16)
	shapes map[uint64]*fhir.OperationOutcome // nil: valid
	// values remembers the verdicts on values that recur (client ids, addresses,
	// references, scopes): string, uri and code values, not ids and instants.
	values map[leafValue]bool
}

// leafValue is a value of a primitive type, as the values cache keys it.
type leafValue struct{ typ, value string }

// maxAuditShapes bounds the caches; past it, new shapes are validated every time and
// the values' verdicts start afresh.
const maxAuditShapes = 4096

func newAuditCheck(v EventValidator) *auditCheck {
	return &auditCheck{v: v, shapes: map[uint64]*fhir.OperationOutcome{}, values: map[leafValue]bool{}}
}

// check returns nil when a, the event of p, is valid R4, or the issues found.
func (c *auditCheck) check(a *renderedAudit, p pendingAudit) *fhir.OperationOutcome {
	oo, known := c.shapes[a.shape]
	if !known {
		var s renderedAudit
		s.render(nil, nil, p.grant, p.req, a.id, a.lastUpdated, true)
		oo = c.v.Validate(s.body)
		if oo != nil && !oo.HasErrors() {
			oo = nil
		}
		if len(c.shapes) < maxAuditShapes {
			c.shapes[a.shape] = oo
		}
	}
	if oo != nil {
		return oo
	}
	var issues []fhir.Issue
	for _, l := range a.leaves {
		if !c.valid(l) {
			issues = append(issues, fhir.Issue{Severity: fhir.SeverityError, Code: "value", Expression: []string{l.path},
				Diagnostics: "base R4: not a valid " + l.typ})
		}
	}
	if issues != nil {
		return fhir.NewOutcome(issues...)
	}
	return nil
}

// valid checks one value, through the cache for the types whose values recur.
func (c *auditCheck) valid(l auditLeaf) bool {
	switch l.typ {
	case "string", "uri", "code":
	default:
		return c.v.CheckPrimitive(l.typ, l.value) == nil
	}
	k := leafValue{l.typ, l.value}
	ok, known := c.values[k]
	if !known {
		if len(c.values) >= maxAuditShapes {
			clear(c.values)
		}
		ok = c.v.CheckPrimitive(l.typ, l.value) == nil
		c.values[k] = ok
	}
	return ok
}

// shapeSeed seeds the shape hashes of this process.
var shapeSeed = maphash.MakeSeed()

// auditWriter writes an event's JSON, and hashes its shape as it goes.
type auditWriter struct {
	r         *renderedAudit
	buf       []byte
	h         maphash.Hash
	shapeOnly bool
	refs      *search.RefCache // nil: none
}

// raw appends fixed JSON, to the event and its shape.
func (w *auditWriter) raw(s string) *auditWriter {
	w.buf = append(w.buf, s...)
	w.h.WriteString(s)
	return w
}

// value appends a varying value of primitive type typ (cleaned to be valid for it):
// itself to the JSON (its placeholder with shapeOnly), its type's placeholder to the
// shape.
func (w *auditWriter) value(typ, path, v string) *auditWriter {
	v = clean(typ, v)
	ph := placeholders[typ]
	if w.shapeOnly {
		w.buf = append(w.buf, ph...)
	} else {
		w.buf = appendJSONString(w.buf, v)
	}
	w.h.WriteString(ph)
	w.r.leaves = append(w.r.leaves, auditLeaf{typ: typ, path: path, value: v})
	return w
}

// clean makes a value from a request or a token valid for its primitive type, so that
// an odd client id or URL never costs the audit trail an event: invalid UTF-8 becomes
// U+FFFD, a string is never empty nor holds a form feed, a uri holds no white space
// and a code no leading, trailing or repeated white space.
func clean(typ, v string) string {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	switch typ {
	case "string":
		v = strings.ReplaceAll(v, "\f", " ")
	case "uri":
		v = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
				return '_'
			}
			return r
		}, v)
		return v
	case "code":
		v = strings.Join(strings.Fields(v), " ")
	}
	if v == "" {
		return "unknown"
	}
	return v
}

// appendJSONString appends s (valid UTF-8) as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	return append(append(dst, s[start:]...), '"')
}
