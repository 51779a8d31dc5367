package bolt

import (
	"bytes"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir/storecodec"
)

// formatV1 is the layout before the compact index (index rows in bucket idx, keyed by
// "type NUL param NUL esc(key) 0 1 id").
const formatV1 = "aitgw-bolt/1"

// bucketIdxV1 is format 1's index bucket.
var bucketIdxV1 = []byte("idx")

// migrateChunk bounds the resources whose rows one commit of the migration writes
// (a variable for the tests).
var migrateChunk = 5000

// migrateV1 rewrites the index of a format-1 file in the compact layout (compactidx.go)
// from each resource's stored entry list (ridx), in commits of migrateChunk resources,
// then drops the old index and records format 2 in one last commit. It runs at Open,
// before the store serves. A crash part way leaves the file in format 1 with a partial
// new index, which the next Open discards and rebuilds: the migration is all or
// nothing as the rest of the gateway sees it.
func migrateV1(db *bbolt.DB) (resources int, err error) {
	err = db.Update(func(btx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketPIdx, bucketPName} {
			if btx.Bucket(name) != nil {
				if err := btx.DeleteBucket(name); err != nil {
					return err
				}
			}
			if _, err := btx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var after []byte // last ridx key done
	for {
		done := false
		err := db.Update(func(btx *bbolt.Tx) error {
			t := &tx{btx: btx}
			idx := t.bucket(bucketPIdx)
			c := btx.Bucket(bucketRIdx).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			n := 0
			for ; k != nil && n < migrateChunk; k, v = c.Next() {
				typ, id, err := storecodec.SplitResourceKey(string(k))
				if err != nil {
					return err
				}
				entries, err := storecodec.DecodeEntries(v)
				if err != nil {
					return fmt.Errorf("index entries of %s/%s: %w", typ, id, err)
				}
				for _, e := range entries {
					ord, err := assignOrdinal(btx, typ, e.Param)
					if err != nil {
						return err
					}
					if err := idx.Put(pidxKey(ord, e.Key, id), nil); err != nil {
						return err
					}
				}
				after = bytes.Clone(k)
				n++
			}
			resources += n
			done = k == nil
			return nil
		})
		if err != nil {
			return resources, fmt.Errorf("migrate the index to %s: %w", format, err)
		}
		if done {
			break
		}
	}
	return resources, db.Update(func(btx *bbolt.Tx) error {
		if btx.Bucket(bucketIdxV1) != nil {
			if err := btx.DeleteBucket(bucketIdxV1); err != nil {
				return err
			}
		}
		return btx.Bucket(bucketMeta).Put([]byte("format"), []byte(format))
	})
}
