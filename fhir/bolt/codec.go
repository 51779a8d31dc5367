package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Record encoding, the value of bucket ver: a flags byte, the lastUpdated as a zigzag
// varint of Unix nanoseconds (absent when zero), the method as a length-prefixed
// string, then the body as stored. Type, id and version are in the key.
const (
	flagDeleted     = 1 << 0
	flagNoTimestamp = 1 << 1
)

// errCorrupt reports bytes that this package did not write.
var errCorrupt = errors.New("bolt: corrupt record")

// encodeRecord returns the value of r in bucket ver, in a fresh buffer.
func encodeRecord(r *fhir.Record) []byte {
	var flags byte
	body := r.Body
	if r.Deleted {
		flags |= flagDeleted
		body = nil
	}
	if r.LastUpdated.IsZero() {
		flags |= flagNoTimestamp
	}
	buf := make([]byte, 0, 1+binary.MaxVarintLen64*2+len(r.Method)+len(body))
	buf = append(buf, flags)
	if flags&flagNoTimestamp == 0 {
		buf = binary.AppendVarint(buf, r.LastUpdated.UnixNano())
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Method)))
	buf = append(buf, r.Method...)
	return append(buf, body...)
}

// decodeRecord rebuilds a record from its key fields and value, copying everything out
// of bbolt's memory.
func decodeRecord(typ, id string, version int64, v []byte) (*fhir.Record, error) {
	if len(v) < 1 {
		return nil, errCorrupt
	}
	r := &fhir.Record{Type: typ, ID: id, Version: version, Deleted: v[0]&flagDeleted != 0}
	rest := v[1:]
	if v[0]&flagNoTimestamp == 0 {
		ns, n := binary.Varint(rest)
		if n <= 0 {
			return nil, errCorrupt
		}
		r.LastUpdated = time.Unix(0, ns).UTC()
		rest = rest[n:]
	}
	ml, n := binary.Uvarint(rest)
	if n <= 0 || uint64(len(rest)-n) < ml {
		return nil, errCorrupt
	}
	r.Method = string(rest[n : n+int(ml)])
	if !r.Deleted {
		r.Body = bytes.Clone(rest[n+int(ml):])
		if r.Body == nil {
			r.Body = []byte{}
		}
	}
	return r, nil
}

// curValue is the value of bucket cur: the current version and whether it is deleted.
func curValue(version int64, deleted bool) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 9), uint64(version))
	if deleted {
		return append(v, flagDeleted)
	}
	return append(v, 0)
}

// parseCur reads a value of bucket cur.
func parseCur(v []byte) (version int64, deleted bool, err error) {
	if len(v) != 9 {
		return 0, false, errCorrupt
	}
	return int64(binary.BigEndian.Uint64(v)), v[8]&flagDeleted != 0, nil
}

// join concatenates parts separated by NUL into a fresh buffer.
func join(parts ...string) []byte {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n+8)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// resKey is the key of a resource in buckets cur and ridx.
func resKey(typ, id string) []byte { return join(typ, id) }

// verKey is the key of one version in bucket ver.
func verKey(typ, id string, version int64) []byte {
	return binary.BigEndian.AppendUint64(append(join(typ, id), 0), uint64(version))
}

// timeKey encodes t so that byte order is time order, negative times included.
func timeKey(t time.Time) []byte {
	var ns int64
	switch {
	case t.IsZero() || t.Before(time.Unix(0, math.MinInt64)):
		ns = math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		ns = math.MaxInt64
	default:
		ns = t.UnixNano()
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(ns)^(1<<63))
}

// histRef is the value of a history row: which version it points at.
func histRef(typ, id string, version int64) []byte { return verKey(typ, id, version) }

// parseVerKey splits a key of bucket ver (and a history row value).
func parseVerKey(k []byte) (typ, id string, version int64, err error) {
	if len(k) < 8+3 {
		return "", "", 0, errCorrupt
	}
	head, v := k[:len(k)-9], k[len(k)-8:]
	i := bytes.IndexByte(head, 0)
	if i < 0 || k[len(k)-9] != 0 {
		return "", "", 0, errCorrupt
	}
	return string(head[:i]), string(head[i+1:]), int64(binary.BigEndian.Uint64(v)), nil
}

// Index keys: escKey maps 0x00 to 0x00 0xFF and ends with 0x00 0x01, so that any two
// keys compare as the raw keys do and the id that follows cannot be confused with key
// bytes.
var keyEnd = []byte{0, 1}

// escKey appends the escaped form of key (without terminator) to dst.
func escKey(dst, key []byte) []byte {
	for _, c := range key {
		if c == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// idxPrefix is the common prefix of the index rows of param on typ.
func idxPrefix(typ, param string) []byte { return append(join(typ, param), 0) }

// idxKey is the row of one index entry.
func idxKey(typ, param string, key []byte, id string) []byte {
	b := escKey(idxPrefix(typ, param), key)
	b = append(b, keyEnd...)
	return append(b, id...)
}

// parseIdxTail decodes what follows idxPrefix: the raw key and the id.
func parseIdxTail(tail []byte) (key []byte, id string, err error) {
	key = make([]byte, 0, len(tail))
	for i := 0; i < len(tail); i++ {
		if tail[i] != 0 {
			key = append(key, tail[i])
			continue
		}
		if i+1 >= len(tail) {
			break
		}
		switch tail[i+1] {
		case 0xFF:
			key = append(key, 0)
			i++
		case 1:
			return key, string(tail[i+2:]), nil
		default:
			return nil, "", errCorrupt
		}
	}
	return nil, "", errCorrupt
}

// encodeEntries is the value of bucket ridx: length-prefixed params and keys.
func encodeEntries(entries []fhir.IndexEntry) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.AppendUvarint(b, uint64(len(e.Param)))
		b = append(b, e.Param...)
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
	}
	return b
}

// decodeEntries reads a value of bucket ridx into fresh memory.
func decodeEntries(b []byte) ([]fhir.IndexEntry, error) {
	var out []fhir.IndexEntry
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errCorrupt
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, nil
	}
	for len(b) > 0 {
		p, err := next()
		if err != nil {
			return nil, err
		}
		k, err := next()
		if err != nil {
			return nil, err
		}
		out = append(out, fhir.IndexEntry{Param: string(p), Key: append([]byte{}, k...)})
	}
	return out, nil
}

// prefixEnd returns the smallest key greater than every key starting with prefix, or
// nil when there is none.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// checkName refuses names that would break the NUL-separated layout.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("bolt: empty %s", what)
	}
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		return fmt.Errorf("bolt: %s contains NUL", what)
	}
	return nil
}
