package profiles

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// edit is one change to an example: set (or append, with index "+") or delete the
// value at a dotted path such as "identifier.0.value".
type edit struct {
	path string
	val  any // nil with del: delete
	del  bool
}

func set(path string, v any) edit { return edit{path: path, val: v} }
func del(path string) edit        { return edit{path: path, del: true} }

// mutate applies edits to a copy of body.
func mutate(t testing.TB, body []byte, edits ...edit) []byte {
	t.Helper()
	root := decodeJSON(body)
	for _, e := range edits {
		parts := strings.Split(e.path, ".")
		root = apply(t, root, parts, e)
	}
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func apply(t testing.TB, cur any, parts []string, e edit) any {
	t.Helper()
	key := parts[0]
	last := len(parts) == 1
	switch c := cur.(type) {
	case map[string]any:
		if last {
			if e.del {
				delete(c, key)
			} else {
				c[key] = e.val
			}
			return c
		}
		c[key] = apply(t, c[key], parts[1:], e)
		return c
	case []any:
		if key == "+" && last {
			return append(c, e.val)
		}
		i, err := strconv.Atoi(key)
		if err != nil || i >= len(c) {
			t.Fatalf("bad path element %q in %s", key, e.path)
		}
		if last {
			if e.del {
				return append(c[:i:i], c[i+1:]...)
			}
			c[i] = e.val
			return c
		}
		c[i] = apply(t, c[i], parts[1:], e)
		return c
	}
	t.Fatalf("path %s does not exist", e.path)
	return nil
}

// raw decodes a JSON literal for use as an edit value.
func raw(s string) any { return decodeJSON([]byte(s)) }
