package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// The search index of format 2 (bucket pidx) keeps its rows short, because they are
// most of the file (26 rows per resource of the scale mode):
//
//	pidx   ordinal(2B) esc(key) 0 1 idenc → nil (format 3: more ids, postings.go)
//	pname  type 0 param                   → ordinal(2B)
//	pname  0 ordinal(2B)                  → type 0 param (the reverse)
//	ridx   type 0 id                      → 0, then per entry: ordinal(2B),
//	                                         uvarint(bytes shared with the previous
//	                                         key), uvarint(length of the rest), rest
//
// The ordinal stands for "type NUL param NUL" (up to 40 bytes repeated in every row of
// format 1), assigned on first use and never reused; idenc is 0x01 and the 16 bytes of
// an id written as a lowercase UUID (the ids the gateway assigns), or 0x00 and the id
// as is. Byte order is unchanged within a parameter: by key, then id (UUIDs after
// other ids). A row is about 40 bytes shorter than in format 1. A resource's entry
// list (ridx) names parameters by ordinal too and shares key prefixes: index keys of
// one parameter often start alike (a code system, a composite's first part). Its
// leading 0 tells it from a format-1 list (storecodec.EncodeEntries), which starts
// with a parameter name's length (never 0): a migration interrupted part way may
// leave both.

var (
	bucketPIdx  = []byte("pidx")
	bucketPName = []byte("pname")
)

// maxOrdinal bounds the (type, parameter) pairs: 2 bytes.
const maxOrdinal = 1<<16 - 1

// paramOrdinal returns the ordinal of typ's param, or ok=false when it has none (no
// row was ever written for it).
func paramOrdinal(btx *bbolt.Tx, typ, param string) (ord []byte, ok bool) {
	v := btx.Bucket(bucketPName).Get(join(typ, param))
	if len(v) != 2 {
		return nil, false
	}
	return v, true
}

// assignOrdinal returns the ordinal of typ's param, assigning the next one if needed.
func assignOrdinal(btx *bbolt.Tx, typ, param string) ([]byte, error) {
	if ord, ok := paramOrdinal(btx, typ, param); ok {
		return ord, nil
	}
	b := btx.Bucket(bucketPName)
	n, err := b.NextSequence()
	if err != nil {
		return nil, err
	}
	if n > maxOrdinal {
		return nil, fmt.Errorf("bolt: more than %d indexed (type, parameter) pairs", maxOrdinal)
	}
	ord := binary.BigEndian.AppendUint16(nil, uint16(n))
	if err := b.Put(join(typ, param), ord); err != nil {
		return nil, err
	}
	return ord, b.Put(reverseKey(ord), join(typ, param))
}

// reverseKey is the pname row naming the pair of ord.
func reverseKey(ord []byte) []byte { return append([]byte{0}, ord...) }

// ordinalEntry is an index entry with its parameter as an ordinal.
type ordinalEntry struct {
	ord []byte
	key []byte
}

// encodeEntryList returns the compact entry list of typ's entries (sorted by
// parameter and key), assigning ordinals as needed, and the entries' ordinals.
func encodeEntryList(btx *bbolt.Tx, typ string, entries []fhir.IndexEntry) ([]byte, []ordinalEntry, error) {
	out := []byte{0}
	ords := make([]ordinalEntry, len(entries))
	var prev []byte
	var ord []byte
	for i, e := range entries {
		if i == 0 || e.Param != entries[i-1].Param { // sorted: a parameter's entries are together
			var err error
			if ord, err = assignOrdinal(btx, typ, e.Param); err != nil {
				return nil, nil, err
			}
		}
		shared := 0
		for shared < len(prev) && shared < len(e.Key) && prev[shared] == e.Key[shared] {
			shared++
		}
		out = append(out, ord...)
		out = binary.AppendUvarint(out, uint64(shared))
		out = binary.AppendUvarint(out, uint64(len(e.Key)-shared))
		out = append(out, e.Key[shared:]...)
		ords[i] = ordinalEntry{ord: ord, key: e.Key}
		prev = e.Key
	}
	return out, ords, nil
}

// decodeEntryList reads a compact entry list, packed or not, into fresh memory.
func decodeEntryList(v []byte) ([]ordinalEntry, error) {
	v, err := unpackList(v)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 || v[0] != 0 {
		return nil, errCorrupt
	}
	v = v[1:]
	var out []ordinalEntry
	var prev []byte
	for len(v) > 0 {
		if len(v) < 2 {
			return nil, errCorrupt
		}
		ord := bytes.Clone(v[:2])
		v = v[2:]
		shared, n := binary.Uvarint(v)
		if n <= 0 || shared > uint64(len(prev)) {
			return nil, errCorrupt
		}
		v = v[n:]
		rest, n := binary.Uvarint(v)
		if n <= 0 || uint64(len(v)-n) < rest {
			return nil, errCorrupt
		}
		key := append(bytes.Clone(prev[:shared]), v[n:n+int(rest)]...)
		v = v[n+int(rest):]
		out = append(out, ordinalEntry{ord: ord, key: key})
		prev = key
	}
	return out, nil
}

// isCompactList tells a compact entry list (packed or not) from a format-1 one.
func isCompactList(v []byte) bool { return len(v) > 0 && v[0] == 0 }

// readEntryList reads a stored entry list of either form as ordinal entries.
func readEntryList(btx *bbolt.Tx, typ string, v []byte) ([]ordinalEntry, error) {
	if isCompactList(v) {
		return decodeEntryList(v)
	}
	entries, err := storecodec.DecodeEntries(v)
	if err != nil {
		return nil, err
	}
	out := make([]ordinalEntry, 0, len(entries))
	for _, e := range entries {
		if ord, ok := paramOrdinal(btx, typ, e.Param); ok {
			out = append(out, ordinalEntry{ord: ord, key: e.Key})
		}
	}
	return out, nil
}

// paramName returns the parameter an ordinal stands for.
func paramName(btx *bbolt.Tx, ord []byte) (string, error) {
	v := btx.Bucket(bucketPName).Get(reverseKey(ord))
	if v == nil {
		return "", errCorrupt
	}
	_, param, err := storecodec.SplitResourceKey(string(v))
	return param, err
}

// pidxKey is the row of one index entry of the parameter whose ordinal is ord.
func pidxKey(ord, key []byte, id string) []byte {
	m := storecodec.AppendIndexMember(append(make([]byte, 0, 2+len(key)+20), ord...), key, "")
	return appendID(m, id)
}

// appendID appends idenc.
func appendID(dst []byte, id string) []byte {
	if raw, ok := uuidBytes(id); ok {
		return append(append(dst, 1), raw[:]...)
	}
	return append(append(dst, 0), id...)
}

// decodeID reads idenc.
func decodeID(enc []byte) (string, error) {
	switch {
	case len(enc) == 17 && enc[0] == 1:
		return formatUUID(enc[1:]), nil
	case len(enc) > 1 && enc[0] == 0:
		return string(enc[1:]), nil
	}
	return "", errCorrupt
}

// uuidBytes decodes a lowercase canonical UUID (8-4-4-4-12 hex digits).
func uuidBytes(id string) (raw [16]byte, ok bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return raw, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i--
			continue
		}
		hi, lo := unhex(id[i]), unhex(id[i+1])
		if hi < 0 || lo < 0 {
			return raw, false
		}
		raw[j] = byte(hi<<4 | lo)
		j++
	}
	return raw, j == 16
}

// unhex is the value of a lowercase hex digit, -1 for anything else (an uppercase
// UUID is kept as text, so that it reads back exactly).
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// formatUUID writes 16 bytes as a lowercase canonical UUID.
func formatUUID(raw []byte) string {
	h := hex.EncodeToString(raw)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
