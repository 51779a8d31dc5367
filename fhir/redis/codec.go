package redis

import (
	"fmt"
	"time"

	"github.com/aitgw/aitgw/fhir/storecodec"
)

// Values (records, current states, index-entry lists) and the parts of members shared
// with fhir/bolt are encoded by fhir/storecodec, byte for byte as bolt stores them, so
// that a migration tool can copy them. This file only lays them out as Redis hash
// fields and sorted-set members, which go-redis handles as strings.

// errCorrupt reports a member or field layout that this package did not write.
var errCorrupt = fmt.Errorf("redis store: %w", storecodec.ErrCorrupt)

// versionField is the field of one version in a resource's version hash.
func versionField(v int64) string { return string(storecodec.AppendVersion(nil, v)) }

// timeKey encodes t so that byte order is time order.
func timeKey(t time.Time) string { return string(storecodec.AppendTimeKey(nil, t)) }

// histMember is a history row: time, commit sequence, then the version it points at:
// "type 0 id 0 version(8B)" in the system history, "id 0 version(8B)" in a type's.
func histMember(when time.Time, seq uint64, name string, version int64) string {
	return string(storecodec.AppendVersionRef(storecodec.AppendHistoryStamp(nil, when, seq), name, version))
}

// parseHistMember returns the version reference of a history row.
func parseHistMember(m string) (ref string, err error) {
	if len(m) < storecodec.HistoryStampLen+9 {
		return "", errCorrupt
	}
	return m[storecodec.HistoryStampLen:], nil
}

// escKey is the escaped form of an index key: a ZRANGEBYLEX bound (see
// storecodec.AppendIndexKey).
func escKey(key []byte) string { return string(storecodec.AppendIndexKey(nil, key)) }

// indexMember is the sorted-set member of one index entry.
func indexMember(key []byte, id string) string {
	return string(storecodec.AppendIndexMember(nil, key, id))
}
