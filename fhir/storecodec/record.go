// Package storecodec holds what every fhir.Store backend (fhir/bolt, fhir/redis) must
// do identically: the byte encodings of records, current-version states, history
// stamps, version references, index members and index-entry lists, and the checks a
// Put runs before anything is written.
//
// The encodings are a storage format: data written by an earlier gateway must still
// read, and a migration tool may copy values between backends byte for byte. Change
// none of them without a format version (fhir/bolt records "aitgw-bolt/4", and marks records whose body it compresses with FlagBackend); the
// golden tests of this package pin every byte.
//
// Types, ids, search-parameter names and aux namespaces never contain NUL (CheckPut
// refuses them), so NUL separates them unambiguously in keys; index keys are arbitrary
// bytes and are escaped (see AppendIndexKey).
package storecodec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// ErrCorrupt reports stored bytes that no backend wrote: every decoding error of this
// package, and the backends' own layout errors, wrap it.
var ErrCorrupt = errors.New("corrupt stored value")

// Flags of the first byte of an encoded record (bit 0 also flags a deleted
// CurrentState).
const (
	flagDeleted     = 1 << 0
	flagNoTimestamp = 1 << 1
	// FlagBackend is left to a backend: one that transforms the body (fhir/bolt
	// compresses it) marks the record with it and reads it back with DecodeRecordBody;
	// EncodeRecord never sets it.
	FlagBackend = 1 << 2
)

// EncodeRecord returns the stored form of r, in a fresh buffer: a flags byte, the
// lastUpdated as a zigzag varint of Unix nanoseconds (absent when zero), the method as
// a length-prefixed string, then the body as submitted (none for a tombstone). Type,
// id and version are not included: backends keep them in the key.
func EncodeRecord(r *fhir.Record) []byte {
	return AppendRecord(make([]byte, 0, 1+binary.MaxVarintLen64*2+len(r.Method)+len(r.Body)), r)
}

// AppendRecord appends the stored form of r (see EncodeRecord) to dst.
func AppendRecord(dst []byte, r *fhir.Record) []byte {
	var flags byte
	body := r.Body
	if r.Deleted {
		flags |= flagDeleted
		body = nil
	}
	if r.LastUpdated.IsZero() {
		flags |= flagNoTimestamp
	}
	buf := append(dst, flags)
	if flags&flagNoTimestamp == 0 {
		buf = binary.AppendVarint(buf, r.LastUpdated.UnixNano())
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Method)))
	buf = append(buf, r.Method...)
	return append(buf, body...)
}

// DecodeRecord rebuilds a record from its key fields and stored form v. Nothing in the
// result aliases v (bbolt's memory is only valid during its transaction). A live
// record always has a non-nil Body, a tombstone a nil one.
func DecodeRecord(typ, id string, version int64, v []byte) (*fhir.Record, error) {
	return DecodeRecordBody(typ, id, version, v, func(b []byte) ([]byte, error) { return append([]byte{}, b...), nil })
}

// DecodeRecordBody is DecodeRecord with the stored body turned into the record's by
// body, which must return fresh memory (not aliasing its argument); it is not called
// for a tombstone.
func DecodeRecordBody(typ, id string, version int64, v []byte, body func([]byte) ([]byte, error)) (*fhir.Record, error) {
	if len(v) < 1 {
		return nil, corrupt("empty record")
	}
	r := &fhir.Record{Type: typ, ID: id, Version: version, Deleted: v[0]&flagDeleted != 0}
	rest := v[1:]
	if v[0]&flagNoTimestamp == 0 {
		ns, n := binary.Varint(rest)
		if n <= 0 {
			return nil, corrupt("record timestamp")
		}
		r.LastUpdated = time.Unix(0, ns).UTC()
		rest = rest[n:]
	}
	ml, n := binary.Uvarint(rest)
	if n <= 0 || uint64(len(rest)-n) < ml {
		return nil, corrupt("record method")
	}
	r.Method = string(rest[n : n+int(ml)])
	if !r.Deleted {
		b, err := body(rest[n+int(ml):])
		if err != nil {
			return nil, err
		}
		if b == nil {
			b = []byte{}
		}
		r.Body = b
	}
	return r, nil
}

// CurrentState is what a backend keeps per resource to find its latest version: the
// version number (0: the resource never existed) and whether that version is a
// tombstone.
type CurrentState struct {
	Version int64
	Deleted bool
}

// Live reports whether the resource exists and is not deleted.
func (c CurrentState) Live() bool { return c.Version > 0 && !c.Deleted }

// Encode returns the stored form of c: the version (8 bytes, big-endian) then a flags
// byte.
func (c CurrentState) Encode() []byte {
	v := AppendVersion(make([]byte, 0, 9), c.Version)
	if c.Deleted {
		return append(v, flagDeleted)
	}
	return append(v, 0)
}

// ParseCurrentState reads the stored form of a CurrentState.
func ParseCurrentState(v []byte) (CurrentState, error) {
	if len(v) != 9 {
		return CurrentState{}, corrupt("current-version state")
	}
	return CurrentState{Version: int64(binary.BigEndian.Uint64(v)), Deleted: v[8]&flagDeleted != 0}, nil
}

// CloneRecord returns a copy of r whose Body the caller may modify freely.
func CloneRecord(r *fhir.Record) *fhir.Record {
	c := *r
	c.Body = bytes.Clone(r.Body)
	return &c
}

// corrupt wraps ErrCorrupt with what could not be read.
func corrupt(what string) error { return &corruptError{what: what} }

type corruptError struct{ what string }

func (e *corruptError) Error() string { return "store: " + ErrCorrupt.Error() + ": " + e.what }
func (e *corruptError) Unwrap() error { return ErrCorrupt }
