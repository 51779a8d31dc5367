package search

import (
	"bytes"
	"crypto/sha256"
	"errors"

	"github.com/aitgw/aitgw/fhir"
)

// maxKeyLen bounds an index key. R4 strings may reach 1 MB, and bbolt refuses keys
// of 32 KiB or more: a longer key is stored as its first maxKeyLen bytes, a marker
// and the SHA-256 of the whole key (capKey). Prefix order holds on the first
// maxKeyLen bytes; what a capped key cannot decide is decided on the resource itself
// (Registry.matchesWhole), so search stays exact. Keys stored before capping
// existed are under bbolt's limit and still match: the format is unchanged.
const maxKeyLen = 1024

// cappedMarker follows the kept prefix of a capped key.
var cappedMarker = []byte{0x00, 0xFF}

// capKey returns k, or its capped form when it is longer than maxKeyLen.
func capKey(k []byte) []byte {
	if len(k) <= maxKeyLen {
		return k
	}
	h := sha256.Sum256(k)
	out := make([]byte, 0, maxKeyLen+len(cappedMarker)+len(h))
	out = append(out, k[:maxKeyLen]...)
	out = append(out, cappedMarker...)
	return append(out, h[:]...)
}

// isCapped reports whether k may be a capped key (a key of that length and shape
// that was not is only checked once more: never a wrong answer).
func isCapped(k []byte) bool {
	return len(k) == maxKeyLen+len(cappedMarker)+sha256.Size && bytes.Equal(k[maxKeyLen:maxKeyLen+len(cappedMarker)], cappedMarker)
}

// capScan returns the bounds to scan for s: s's own, or, when they pass maxKeyLen,
// the range of every key sharing their first maxKeyLen bytes (widened: each
// candidate is then checked on the resource).
func capScan(s scan) (from, to []byte, widened bool) {
	if len(s.from) <= maxKeyLen && len(s.to) <= maxKeyLen {
		return s.from, s.to, false
	}
	from, to = s.from, s.to
	if len(from) > maxKeyLen {
		from = from[:maxKeyLen]
	}
	if len(to) > maxKeyLen {
		to = succ(to[:maxKeyLen])
	}
	return from, to, true
}

// matchesWhole reports whether the current version of typ/id has a whole (uncapped)
// key of param that s matches.
func (r *Registry) matchesWhole(tx fhir.Tx, typ, param, id string, s scan) (bool, error) {
	rec, err := tx.Current(typ, id)
	if errors.Is(err, fhir.ErrNotFound) {
		return false, nil
	}
	if err != nil || rec.Deleted {
		return false, err
	}
	entries, err := r.index(typ, rec.Body, map[string]bool{param: true}, true)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if (s.from == nil || bytes.Compare(e.Key, s.from) >= 0) &&
			(s.to == nil || bytes.Compare(e.Key, s.to) < 0) &&
			(s.keep == nil || s.keep(e.Key)) {
			return true, nil
		}
	}
	return false, nil
}
