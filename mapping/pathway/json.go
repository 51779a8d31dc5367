package pathway

import (
	"encoding/json"
	"strings"
)

// object is a decoded JSON object; the pathway reads stored JSON generically and never
// re-marshals a client's resource.
type object = map[string]any

func decode(b []byte) object {
	var m object
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func str(m object, k string) string { s, _ := m[k].(string); return s }

func obj(m object, k string) object { o, _ := m[k].(map[string]any); return o }

// objs returns an element as a list of objects, whether sent as an array or alone.
func objs(m object, k string) []object {
	switch v := m[k].(type) {
	case map[string]any:
		return []object{v}
	case []any:
		var out []object
		for _, x := range v {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

// ref returns the reference string of a Reference element.
func ref(m object, k string) string { return str(obj(m, k), "reference") }

// refs returns the references of a list of References.
func refs(m object, k string) []string {
	var out []string
	for _, r := range objs(m, k) {
		if s := str(r, "reference"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// split cuts a literal "Type/id" reference (relative, or absolute ending so).
func split(reference string) (typ, id string, ok bool) {
	parts := strings.Split(strings.TrimRight(reference, "/"), "/")
	if len(parts) < 2 || strings.Contains(reference, "#") || strings.HasPrefix(reference, "urn:") {
		return "", "", false
	}
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		parts = parts[:n-2]
	}
	n := len(parts)
	return parts[n-2], parts[n-1], parts[n-2] != "" && parts[n-1] != ""
}
