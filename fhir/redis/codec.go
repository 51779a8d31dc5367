package redis

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// The encodings below match fhir/bolt's (flags byte, zigzag varint nanoseconds,
// length-prefixed method, body), so that a later migration tool can copy records
// byte for byte.
const (
	flagDeleted     = 1 << 0
	flagNoTimestamp = 1 << 1
)

// errCorrupt reports bytes that this package did not write.
var errCorrupt = errors.New("redis store: corrupt value")

// encodeRecord returns the stored form of r (type, id and version live in the key).
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

// decodeRecord rebuilds a record from its key fields and stored form.
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
		r.Body = append([]byte{}, rest[n+int(ml):]...)
	}
	return r, nil
}

// curState is the value of the cur hash: the current version and whether it is a
// tombstone.
type curState struct {
	version int64
	deleted bool
}

func (c curState) live() bool { return c.version > 0 && !c.deleted }

func (c curState) encode() string {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 9), uint64(c.version))
	if c.deleted {
		return string(append(v, flagDeleted))
	}
	return string(append(v, 0))
}

func parseCur(v string) (curState, error) {
	if len(v) != 9 {
		return curState{}, errCorrupt
	}
	return curState{version: int64(binary.BigEndian.Uint64([]byte(v[:8]))), deleted: v[8]&flagDeleted != 0}, nil
}

// versionField is the field of one version in a resource's version hash.
func versionField(v int64) string {
	return string(binary.BigEndian.AppendUint64(nil, uint64(v)))
}

// timeKey encodes t so that byte order is time order.
func timeKey(t time.Time) string {
	var ns int64
	switch {
	case t.IsZero() || t.Before(time.Unix(0, math.MinInt64)):
		ns = math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		ns = math.MaxInt64
	default:
		ns = t.UnixNano()
	}
	return string(binary.BigEndian.AppendUint64(nil, uint64(ns)^(1<<63)))
}

// histMember is a history row: time, commit sequence, then what it points at.
func histMember(when time.Time, seq uint64, ref string) string {
	return timeKey(when) + string(binary.BigEndian.AppendUint64(nil, seq)) + ref
}

// verRef names a version: a 0 b 0 version(8B); a is the type (system history) or
// absent (type history, where the ref is id 0 version).
func verRef(id string, version int64) string { return id + "\x00" + versionField(version) }

// parseHistMember splits a history row; ref is "type\x00id\x00v" or "id\x00v".
func parseHistMember(m string) (ref string, err error) {
	if len(m) < 16+9 {
		return "", errCorrupt
	}
	return m[16:], nil
}

// splitRef splits "name\x00version(8B)" into name and version.
func splitRef(ref string) (name string, version int64, err error) {
	if len(ref) < 9 || ref[len(ref)-9] != 0 {
		return "", 0, errCorrupt
	}
	return ref[:len(ref)-9], int64(binary.BigEndian.Uint64([]byte(ref[len(ref)-8:]))), nil
}

// escKey maps 0x00 to 0x00 0xFF so that escaped keys followed by keyEnd compare as
// the raw keys do (see fhir/bolt).
func escKey(key []byte) string {
	var b bytes.Buffer
	for _, c := range key {
		if c == 0 {
			b.Write([]byte{0, 0xFF})
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

const keyEnd = "\x00\x01"

// indexMember is the sorted-set member of one index entry.
func indexMember(key []byte, id string) string { return escKey(key) + keyEnd + id }

// parseIndexMember decodes an index member into the raw key and the id.
func parseIndexMember(m string) ([]byte, string, error) {
	key := make([]byte, 0, len(m))
	for i := 0; i < len(m); i++ {
		if m[i] != 0 {
			key = append(key, m[i])
			continue
		}
		if i+1 >= len(m) {
			break
		}
		switch m[i+1] {
		case 0xFF:
			key = append(key, 0)
			i++
		case 1:
			return key, m[i+2:], nil
		default:
			return nil, "", errCorrupt
		}
	}
	return nil, "", errCorrupt
}

// encodeEntries is the stored list of a resource's index entries.
func encodeEntries(entries []fhir.IndexEntry) string {
	var b []byte
	for _, e := range entries {
		b = binary.AppendUvarint(b, uint64(len(e.Param)))
		b = append(b, e.Param...)
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
	}
	return string(b)
}

// decodeEntries reads a stored entry list.
func decodeEntries(s string) ([]fhir.IndexEntry, error) {
	b := []byte(s)
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

// checkName refuses names that would break the NUL-separated layout.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("redis store: empty %s", what)
	}
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		return fmt.Errorf("redis store: %s contains NUL", what)
	}
	return nil
}
