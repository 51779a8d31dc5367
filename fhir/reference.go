package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// RewriteReferences returns body with every Reference.reference string passed through
// fn (fn answers the new value and true to replace it). Nothing else changes: member
// order, numbers and other strings are kept byte for byte, so that resolving a
// transaction's urn:uuid references never alters what the sender wrote. Narrative
// (text.div) occurrences of replaced references are replaced too, as the
// specification asks for transactions.
func RewriteReferences(body []byte, fn func(ref string) (string, bool)) ([]byte, error) {
	if !json.Valid(body) {
		return nil, fmt.Errorf("invalid JSON")
	}
	replaced := map[string]string{}
	out, err := rewrite(body, "", func(ref string) (string, bool) {
		n, ok := fn(ref)
		if ok {
			replaced[ref] = n
		}
		return n, ok
	})
	if err != nil || len(replaced) == 0 {
		return out, err
	}
	return rewriteNarrative(out, replaced)
}

func rewrite(raw []byte, key string, fn func(string) (string, bool)) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return raw, nil
	}
	switch raw[0] {
	case '{':
		fl, err := splitObject(raw)
		if err != nil {
			return nil, err
		}
		changed := false
		for i, k := range fl.keys {
			nv, err := rewrite(fl.vals[i], k, fn)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(nv, fl.vals[i]) {
				fl.vals[i] = nv
				changed = true
			}
		}
		if !changed {
			return raw, nil
		}
		return fl.encode(), nil
	case '[':
		items := splitArray(raw)
		changed := false
		for i, it := range items {
			nv, err := rewrite(it, key, fn)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(nv, it) {
				items[i] = nv
				changed = true
			}
		}
		if !changed {
			return raw, nil
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(it)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	case '"':
		if key != "reference" {
			return raw, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if n, ok := fn(s); ok {
			return marshalString(n), nil
		}
	}
	return raw, nil
}

// rewriteNarrative replaces old references in text.div.
func rewriteNarrative(body []byte, replaced map[string]string) ([]byte, error) {
	fl, err := objectFields(body)
	if err != nil {
		return nil, err
	}
	text := fl.get("text")
	if text == nil {
		return body, nil
	}
	tf, err := objectFields(text)
	if err != nil {
		return body, nil // not an object: leave it to validation
	}
	var div string
	if raw := tf.get("div"); raw == nil || json.Unmarshal(raw, &div) != nil {
		return body, nil
	}
	nd := div
	for old, n := range replaced {
		nd = strings.ReplaceAll(nd, old, n)
	}
	if nd == div {
		return body, nil
	}
	tf.set("div", marshalString(nd), "")
	fl.set("text", tf.encode(), "")
	return fl.encode(), nil
}

// marshalString encodes s as a JSON string without HTML escaping.
func marshalString(s string) []byte { return MarshalNoEscape(s) }
