package notify

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// setMembers returns the JSON object body with the top-level members of set replaced
// (or appended, in the order given) and those of del removed; every other member
// stays byte for byte where it was. Stored JSON is never re-marshalled whole.
func setMembers(body []byte, set [][2]any, del ...string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		keys = append(keys, kt.(string))
		vals = append(vals, v)
	}
	for _, kv := range set {
		k := kv[0].(string)
		v, err := json.Marshal(kv[1])
		if err != nil {
			return nil, err
		}
		found := false
		for i := range keys {
			if keys[i] == k {
				vals[i], found = v, true
			}
		}
		if !found {
			keys, vals = append(keys, k), append(vals, v)
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for i, k := range keys {
		if contains(del, k) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vals[i])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// newID returns a random UUID (valid as a FHIR id and in urn:uuid).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// contentID derives a stable id from parts, so that the same milestone told twice
// to the same recipient yields the same Communication (and re-running a transaction
// function writes the same thing).
func contentID(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + hex.EncodeToString(h[:16])
}

// splitRef splits "Type/id" (a relative reference, or the tail of an absolute one).
func splitRef(ref string) (typ, id string, ok bool) {
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if len(parts) < 2 {
		return "", "", false
	}
	typ, id = parts[len(parts)-2], parts[len(parts)-1]
	return typ, id, typ != "" && id != ""
}
