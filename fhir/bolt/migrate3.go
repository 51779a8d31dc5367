package bolt

import (
	"bytes"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir/storecodec"
)

// formatV2 is the layout before compressed values (pack.go): bodies and entry lists
// as they are.
const formatV2 = "aitgw-bolt/2"

// formatV3Migrating marks a file whose values are being packed: a gateway of format 2
// refuses it (it would misread a packed value), and Open finishes the migration.
const formatV3Migrating = "aitgw-bolt/3-migrating"

// migrateV2 packs the values of a format-2 file (every stored version's body and
// every entry list) where that pays, in commits of migrateChunk values, then records
// format 3 (migrated on to format 4 by migrateV3). Its first commit records formatV3Migrating; a crash part way leaves some
// values packed, which the next Open reads as such and skips: the migration resumes,
// and the gateway serves only once it is done.
func migrateV2(db *bbolt.DB) (values int, err error) {
	if err := db.Update(func(btx *bbolt.Tx) error {
		return btx.Bucket(bucketMeta).Put([]byte("format"), []byte(formatV3Migrating))
	}); err != nil {
		return 0, err
	}
	for _, b := range []struct {
		name    []byte
		repack  func(k, v []byte) ([]byte, error)
		context string
	}{
		{bucketVer, repackRecord, "stored versions"},
		{bucketRIdx, repackList, "index entry lists"},
	} {
		n, err := repackBucket(db, b.name, b.repack)
		values += n
		if err != nil {
			return values, fmt.Errorf("migrate the %s to %s: %w", b.context, formatV3, err)
		}
	}
	return values, db.Update(func(btx *bbolt.Tx) error {
		return btx.Bucket(bucketMeta).Put([]byte("format"), []byte(formatV3))
	})
}

// repackBucket rewrites the values of bucket name that repack changes, migrateChunk
// values a commit, and returns how many it rewrote.
func repackBucket(db *bbolt.DB, name []byte, repack func(k, v []byte) ([]byte, error)) (rewritten int, err error) {
	var after []byte // last key done
	for done := false; !done; {
		err := db.Update(func(btx *bbolt.Tx) error {
			t := &tx{btx: btx}
			c := btx.Bucket(name).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			type rewrite struct{ k, v []byte }
			var out []rewrite // written after the walk: a cursor must not see its bucket change
			for n := 0; k != nil && n < migrateChunk; k, v = c.Next() {
				nv, err := repack(k, v)
				if err != nil {
					return fmt.Errorf("%q: %w", k, err)
				}
				if nv != nil {
					out = append(out, rewrite{bytes.Clone(k), nv})
				}
				after = bytes.Clone(k)
				n++
			}
			done = k == nil
			b := t.bucket(name)
			for _, r := range out {
				if err := b.Put(r.k, r.v); err != nil {
					return err
				}
			}
			rewritten += len(out)
			return nil
		})
		if err != nil {
			return rewritten, err
		}
	}
	return rewritten, nil
}

// repackRecord returns the packed form of a stored version, nil when it is packed
// already or packing does not pay.
func repackRecord(k, v []byte) ([]byte, error) {
	if len(v) == 0 || v[0]&flagPacked != 0 {
		return nil, nil
	}
	typ, id, version, err := parseVerKey(k)
	if err != nil {
		return nil, err
	}
	r, err := storecodec.DecodeRecord(typ, id, version, v)
	if err != nil {
		return nil, err
	}
	if nv := encodeStored(r); nv[0]&flagPacked != 0 {
		return nv, nil
	}
	return nil, nil
}

// repackList returns the packed form of an entry list, nil when it is packed already
// or packing does not pay.
func repackList(_, v []byte) ([]byte, error) {
	if !isCompactList(v) || isPackedList(v) {
		return nil, nil // format-1 lists are gone once format 2 is recorded
	}
	if nv := packList(v); isPackedList(nv) {
		return nv, nil
	}
	return nil, nil
}
