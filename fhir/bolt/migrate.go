package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
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
// from each resource's stored entry list (ridx), which it rewrites in the compact
// form too, in commits of migrateChunk resources,
// then drops the old index and records format 2 in one last commit (migrateV2 then
// takes the file to format 3). It runs at Open,
// before the store serves. A crash part way leaves the file in format 1 with a partial
// new index, which the next Open discards and rebuilds (entry lists already rewritten
// are read as such): the migration is all or nothing as the rest of the gateway sees
// it.
func migrateV1(db *bbolt.DB) (resources int, err error) {
	err = db.Update(func(btx *bbolt.Tx) error {
		// An earlier, interrupted migration may have left index rows: drop them. Its
		// ordinals stay (entry lists it rewrote name them), with their reverse rows
		// and a sequence past them.
		if btx.Bucket(bucketPIdx) != nil {
			if err := btx.DeleteBucket(bucketPIdx); err != nil {
				return err
			}
		}
		if _, err := btx.CreateBucket(bucketPIdx); err != nil {
			return err
		}
		return repairNames(btx)
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
			type rewrite struct{ k, v []byte }
			var lists []rewrite // written after the walk: a cursor must not see its bucket change
			for ; k != nil && n < migrateChunk; k, v = c.Next() {
				typ, id, err := storecodec.SplitResourceKey(string(k))
				if err != nil {
					return err
				}
				var ords []ordinalEntry
				if isCompactList(v) { // rewritten by the interrupted run
					ords, err = decodeEntryList(v)
				} else {
					var entries []fhir.IndexEntry
					if entries, err = storecodec.DecodeEntries(v); err == nil {
						var list []byte
						list, ords, err = encodeEntryList(btx, typ, entries)
						lists = append(lists, rewrite{bytes.Clone(k), list})
					}
				}
				if err != nil {
					return fmt.Errorf("index entries of %s/%s: %w", typ, id, err)
				}
				for _, e := range ords {
					if err := idx.Put(pidxKey(e.ord, e.key, id), nil); err != nil {
						return err
					}
				}
				after = bytes.Clone(k)
				n++
			}
			resources += n
			done = k == nil
			for _, l := range lists {
				if err := t.bucket(bucketRIdx).Put(l.k, l.v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return resources, fmt.Errorf("migrate the index to %s: %w", formatV2, err)
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
		return btx.Bucket(bucketMeta).Put([]byte("format"), []byte(formatV2))
	})
}

// repairNames gives every ordinal of pname its reverse row and sets the sequence past
// the largest, so that assignOrdinal never hands out one already used.
func repairNames(btx *bbolt.Tx) error {
	b := btx.Bucket(bucketPName)
	var fwd [][2][]byte
	var top uint64
	if err := b.ForEach(func(k, v []byte) error {
		if len(k) > 0 && k[0] != 0 && len(v) == 2 {
			fwd = append(fwd, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
			top = max(top, uint64(binary.BigEndian.Uint16(v)))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, f := range fwd {
		if err := b.Put(reverseKey(f[1]), f[0]); err != nil {
			return err
		}
	}
	if top > b.Sequence() {
		return b.SetSequence(top)
	}
	return nil
}
