package storecodec

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/aitgw/aitgw/fhir"
)

// EncodeEntries returns the stored list of a resource's index entries (kept so that an
// update can remove the rows of the previous version): for each entry, the parameter
// then the key, each prefixed by its length as a uvarint.
func EncodeEntries(entries []fhir.IndexEntry) []byte { return AppendEntries(nil, entries) }

// AppendEntries appends the stored list of entries (see EncodeEntries) to b.
func AppendEntries(b []byte, entries []fhir.IndexEntry) []byte {
	for _, e := range entries {
		b = binary.AppendUvarint(b, uint64(len(e.Param)))
		b = append(b, e.Param...)
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
	}
	return b
}

// DecodeEntries reads a list written by EncodeEntries into fresh memory.
func DecodeEntries(b []byte) ([]fhir.IndexEntry, error) {
	var out []fhir.IndexEntry
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, corrupt("index entry list")
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
		out = append(out, fhir.IndexEntry{Param: string(p), Key: bytes.Clone(k)})
	}
	return out, nil
}

// CloneEntries returns entries in fresh memory.
func CloneEntries(entries []fhir.IndexEntry) []fhir.IndexEntry {
	out := make([]fhir.IndexEntry, len(entries))
	for i, e := range entries {
		out[i] = fhir.IndexEntry{Param: e.Param, Key: bytes.Clone(e.Key)}
	}
	return out
}

// normalizeEntries checks index entries and returns them sorted by (param, key),
// without duplicates, in fresh memory.
func normalizeEntries(index []fhir.IndexEntry) ([]fhir.IndexEntry, error) {
	for _, e := range index {
		if err := CheckName("search parameter name", e.Param); err != nil {
			return nil, err
		}
	}
	out := CloneEntries(index)
	if !slices.IsSortedFunc(out, fhir.CompareIndexEntries) { // the gateway's writer sends them sorted
		slices.SortFunc(out, fhir.CompareIndexEntries)
	}
	return slices.CompactFunc(out, func(a, b fhir.IndexEntry) bool { return fhir.CompareIndexEntries(a, b) == 0 }), nil
}
