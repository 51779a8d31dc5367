package bolt

import (
	"bytes"
	"fmt"

	"github.com/aitgw/aitgw/fhir/storecodec"
)

// Values (records, current states, index-entry lists) and the parts of keys shared
// with fhir/redis are encoded by fhir/storecodec; this file only lays them out in
// bbolt keys (see the package comment).

// errCorrupt reports a key layout that this package did not write.
var errCorrupt = fmt.Errorf("bolt: %w", storecodec.ErrCorrupt)

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

// verKey is the key of one version in bucket ver, and the value of a hist row.
func verKey(typ, id string, version int64) []byte {
	return storecodec.AppendVersion(append(join(typ, id), 0), version)
}

// parseVerKey splits a key of bucket ver (and a history row value).
func parseVerKey(k []byte) (typ, id string, version int64, err error) {
	name, version, err := storecodec.SplitVersionRef(k)
	if err != nil {
		return "", "", 0, err
	}
	typ, id, err = storecodec.SplitResourceKey(name)
	return typ, id, version, err
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
