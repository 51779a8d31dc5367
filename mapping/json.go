package mapping

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/mapping/rules"
)

// object is a resource or element decoded generically. Numbers stay json.Number so
// that re-encoding writes them exactly as submitted.
type object = map[string]any

// decodeObject decodes one JSON object keeping numbers as submitted.
func decodeObject(b []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m object
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

func str(m object, key string) string {
	s, _ := m[key].(string)
	return s
}

func obj(m object, key string) object {
	o, _ := m[key].(map[string]any)
	return o
}

func arr(m object, key string) []any {
	a, _ := m[key].([]any)
	return a
}

func objs(m object, key string) []object {
	var out []object
	for _, v := range arr(m, key) {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// coding is a system and a code.
type coding struct{ System, Code, Display string }

// codings returns the codings of a CodeableConcept.
func codings(cc object) []coding {
	var out []coding
	for _, c := range objs(cc, "coding") {
		out = append(out, coding{str(c, "system"), str(c, "code"), str(c, "display")})
	}
	return out
}

// hasCoding reports whether cc holds one of the "system|code" keys.
func hasCoding(cc object, keys []string) bool {
	for _, c := range codings(cc) {
		for _, k := range keys {
			if k == c.System+"|"+c.Code {
				return true
			}
		}
	}
	return false
}

// parseDate reads a FHIR date, dateTime or instant; partial dates take their first
// instant. A dateTime without a zone is read as UTC; a date-only value as the start of
// that day in the care site's zone.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	// A date without a time is a calendar day at the care site (rules.Zone), never
	// midnight UTC: its first instant there.
	for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
		if t, err := time.ParseInLocation(layout, s, rules.Zone()); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// clinicalDate returns the date a resource speaks of: effective, issued, started,
// authored or date, in that order of preference.
func clinicalDate(m object) (time.Time, string, bool) {
	for _, k := range []string{"effectiveDateTime", "effectiveInstant", "started", "authoredOn", "date", "issued", "occurrenceDateTime", "recordedDate", "dateAsserted"} {
		if s := str(m, k); s != "" {
			t, ok := parseDate(s)
			return t, k, ok
		}
	}
	if p := obj(m, "effectivePeriod"); p != nil {
		if t, ok := parseDate(str(p, "start")); ok {
			return t, "effectivePeriod.start", true
		}
	}
	return time.Time{}, "", false
}

// formatNumber writes a float with no more digits than needed.
func formatNumber(f float64) json.Number {
	return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
}

// refParts splits "Type/id" (ignoring a base URL and a _history suffix).
func refParts(ref string) (typ, id string, ok bool) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return "", "", false
	}
	return parts[len(parts)-2], parts[len(parts)-1], true
}

// appendTo appends v to the array m[key], creating it when absent. It refuses (false)
// when m[key] holds something else: a malformed submitted element is never replaced.
func appendTo(m object, key string, v any) bool {
	cur, present := m[key]
	if !present {
		m[key] = []any{v}
		return true
	}
	a, ok := cur.([]any)
	if !ok {
		return false
	}
	m[key] = append(a, v)
	return true
}
