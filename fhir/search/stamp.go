package search

import (
	"slices"

	"github.com/aitgw/aitgw/fhir"
)

// StampEntries returns the index entries of what the server stamps on a version:
// _id and _lastUpdated (lastUpdated as stamped in meta). They are computed directly
// from their values, the same keys Index derives by evaluating Resource.id and
// Resource.meta.lastUpdated (TestStampEntriesMatchIndex), because they are the only
// entries made inside the store's write lock, one write after another.
func (r *Registry) StampEntries(id, lastUpdated string) []fhir.IndexEntry {
	out := []fhir.IndexEntry{{Param: "_id", Key: key(tagCode, id)}, {Param: "_id", Key: key(tagNoSys, id)}}
	if lo, hi, ok := parseFHIRTime(lastUpdated); ok {
		for _, k := range intervalKeys(lo, hi) {
			out = append(out, fhir.IndexEntry{Param: "_lastUpdated", Key: k})
		}
	}
	slices.SortFunc(out, fhir.CompareIndexEntries)
	return out
}
