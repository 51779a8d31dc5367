package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// DecodeJSON decodes one JSON value with numbers kept as json.Number, so that their
// literal text (1.0 is not 1) takes part in comparisons: FHIR decimals carry their
// precision in that text.
func DecodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

// StripServerMeta removes what the server owns from a resource: id and
// meta.versionId / meta.lastUpdated (meta itself when nothing else is left in it).
func StripServerMeta(res map[string]any) {
	delete(res, "id")
	meta, ok := res["meta"].(map[string]any)
	if !ok {
		return
	}
	delete(meta, "versionId")
	delete(meta, "lastUpdated")
	if len(meta) == 0 {
		delete(res, "meta")
	}
}

// Diff compares two decoded JSON values semantically (object member order ignored,
// array order kept, numbers compared by literal text) and returns one line per
// difference, each starting with the FHIRPath-like location of the element, at most
// limit lines.
func Diff(want, got any, root string, limit int) []string {
	d := &differ{limit: limit}
	d.walk(root, want, got)
	return d.out
}

type differ struct {
	out   []string
	limit int
}

func (d *differ) add(path, format string, args ...any) {
	if len(d.out) < d.limit {
		d.out = append(d.out, path+": "+fmt.Sprintf(format, args...))
	}
}

func (d *differ) walk(path string, want, got any) {
	if len(d.out) >= d.limit {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			d.add(path, "expected an object, got %s", brief(got))
			return
		}
		for _, k := range sortedKeys(w) {
			gv, present := g[k]
			if !present {
				d.add(path+"."+k, "missing (expected %s)", brief(w[k]))
				continue
			}
			d.walk(path+"."+k, w[k], gv)
		}
		for _, k := range sortedKeys(g) {
			if _, present := w[k]; !present {
				d.add(path+"."+k, "unexpected element %s", brief(g[k]))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			d.add(path, "expected an array, got %s", brief(got))
			return
		}
		if len(w) != len(g) {
			d.add(path, "expected %d items, got %d", len(w), len(g))
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			d.walk(path+"["+strconv.Itoa(i)+"]", w[i], g[i])
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok || g.String() != w.String() {
			d.add(path, "expected number %s, got %s", w, brief(got))
		}
	default: // string, bool, nil
		if got != want {
			d.add(path, "expected %s, got %s", brief(want), brief(got))
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// brief renders a value for a diff line, cut to a readable length.
func brief(v any) string {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = "number " + x.String()
	case string:
		s = strconv.Quote(x)
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.ReplaceAll(s, "\n", " ")
}
