package storecodec

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// AppendVersion appends version as 8 bytes, big-endian, so that byte order is version
// order.
func AppendVersion(dst []byte, version int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(version))
}

// AppendTimeKey appends t as 8 bytes whose byte order is time order, negative times
// (before 1970) included; the zero time and times beyond int64 nanoseconds clamp to
// the ends.
func AppendTimeKey(dst []byte, t time.Time) []byte {
	var ns int64
	switch {
	case t.IsZero() || t.Before(time.Unix(0, math.MinInt64)):
		ns = math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		ns = math.MaxInt64
	default:
		ns = t.UnixNano()
	}
	return binary.BigEndian.AppendUint64(dst, uint64(ns)^(1<<63))
}

// HistoryStampLen is the length of a history stamp.
const HistoryStampLen = 16

// AppendHistoryStamp appends the sort key of a history row: the time key of when,
// then seq (8 bytes, big-endian), a commit sequence that only grows, so that versions
// with equal timestamps keep commit order.
func AppendHistoryStamp(dst []byte, when time.Time, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(AppendTimeKey(dst, when), seq)
}

// AppendVersionRef appends the reference of one version: name, NUL, version (8 bytes).
// name is "type NUL id", or "id" where the type is implied (type history rows).
func AppendVersionRef(dst []byte, name string, version int64) []byte {
	return AppendVersion(append(append(dst, name...), 0), version)
}

// SplitVersionRef splits a reference written by AppendVersionRef.
func SplitVersionRef[T ~string | ~[]byte](ref T) (name string, version int64, err error) {
	n := len(ref)
	if n < 9 || ref[n-9] != 0 {
		return "", 0, corrupt("version reference")
	}
	for i := n - 8; i < n; i++ {
		version = version<<8 | int64(ref[i])
	}
	return string(ref[:n-9]), version, nil
}

// SplitResourceKey splits "type NUL id" into its parts.
func SplitResourceKey(key string) (typ, id string, err error) {
	typ, id, ok := strings.Cut(key, "\x00")
	if !ok || typ == "" || id == "" {
		return "", "", corrupt("resource key")
	}
	return typ, id, nil
}

// IndexKeyEnd terminates an escaped index key, before the id.
const IndexKeyEnd = "\x00\x01"

// AppendIndexKey appends the escaped form of an index key, without IndexKeyEnd: 0x00
// becomes 0x00 0xFF, so that escaped keys followed by IndexKeyEnd compare as the raw
// keys do, and the id that follows cannot be confused with key bytes. An escaped key
// alone is also the lowest member of every key at or above it: a range bound.
func AppendIndexKey(dst, key []byte) []byte {
	for _, c := range key {
		if c == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendIndexMember appends the row of one index entry, without its type and
// parameter: the escaped key, IndexKeyEnd, then the id of the resource.
func AppendIndexMember(dst, key []byte, id string) []byte {
	return append(append(AppendIndexKey(dst, key), IndexKeyEnd...), id...)
}

// ParseIndexMember decodes a member written by AppendIndexMember into the raw key (in
// fresh memory) and the id.
func ParseIndexMember[T ~string | ~[]byte](m T) (key []byte, id string, err error) {
	key = make([]byte, 0, len(m))
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
			return key, string(m[i+2:]), nil
		default:
			return nil, "", corrupt("index member")
		}
	}
	return nil, "", corrupt("index member")
}
