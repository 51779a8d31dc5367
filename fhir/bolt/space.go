package bolt

import (
	"context"
	"encoding/binary"
	"os"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir/storecodec"
)

// Space is what the store file holds, in bytes, by kind of row. Bytes of a kind are
// those of the bbolt pages its buckets allocate (keys, values, page overhead and the
// unfilled part of each page); the
// versions bucket is shared between Resources (current versions) and History (older
// ones) in proportion to their key and value bytes.
type Space struct {
	// File is the size of the file on disk; Free the pages bbolt holds for reuse.
	File, Free int64
	// Resources: current versions and the current-state rows.
	Resources int64
	// History: older versions and the system and type history rows.
	History int64
	// Index: search index rows and each resource's list of its own entries.
	Index int64
	// IndexRows and IndexEntryLists split Index between the search rows (idx) and
	// the per-resource lists (ridx).
	IndexRows, IndexEntryLists int64
	// Other: format, counts and auxiliary rows (subscriptions state, leases…).
	Other int64
	// Versions and Current count the rows of the versions bucket and the live and
	// deleted resources; IndexRowN the search index rows (blocks of ids of one key,
	// postings.go) and IndexKeyBytes the bytes of their keys (without page overhead).
	Versions, Current, IndexRowN, IndexKeyBytes int64
	// IndexGenerations counts the generations of the search index (generations.go).
	IndexGenerations int
}

// Space measures the store on one snapshot. It walks the versions bucket, so it
// costs a read of the whole history: a measurement for the load command and for
// operators, not for a request path.
func (s *Store) Space(ctx context.Context) (Space, error) {
	var sp Space
	if fi, err := os.Stat(s.db.Path()); err == nil {
		sp.File = fi.Size()
	}
	err := s.db.View(func(btx *bbolt.Tx) error {
		used := func(name []byte) int64 { return bucketBytes(btx.Bucket(name)) }
		cur := btx.Bucket(bucketCur)
		var curBytes, oldBytes int64
		c := btx.Bucket(bucketVer).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if sp.Versions%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			sp.Versions++
			n := int64(len(k) + len(v))
			if isCurrentVersion(cur, k) {
				curBytes += n
			} else {
				oldBytes += n
			}
		}
		ver := used(bucketVer)
		if total := curBytes + oldBytes; total > 0 {
			sp.Resources = ver * curBytes / total
			sp.History = ver - sp.Resources
		}
		sp.Current = int64(cur.Stats().KeyN)
		sp.Resources += used(bucketCur)
		sp.History += used(bucketHist) + used(bucketTHist)
		sp.IndexRows, sp.IndexEntryLists = used(bucketPName), used(bucketRIdx)
		gens, err := (&tx{btx: btx}).indexBuckets()
		if err != nil {
			return err
		}
		sp.IndexGenerations = len(gens)
		for _, b := range gens {
			sp.IndexRows += bucketBytes(b)
			ic := b.Cursor()
			for k, _ := ic.First(); k != nil; k, _ = ic.Next() {
				sp.IndexRowN++
				sp.IndexKeyBytes += int64(len(k))
			}
		}
		sp.Index = sp.IndexRows + sp.IndexEntryLists
		sp.Other = used(bucketMeta) + used(bucketCount) + used(bucketAux)
		st := s.db.Stats()
		sp.Free = int64(st.FreePageN+st.PendingPageN) * int64(s.db.Info().PageSize)
		return nil
	})
	return sp, err
}

// bucketBytes is what a bucket's pages take (a small bucket lives inline in its
// parent).
func bucketBytes(b *bbolt.Bucket) int64 {
	st := b.Stats()
	return int64(st.BranchAlloc + st.LeafAlloc + st.InlineBucketInuse)
}

// isCurrentVersion tells whether the versions-bucket key k (type 0 id 0 version) is
// the current version of its resource.
func isCurrentVersion(cur *bbolt.Bucket, k []byte) bool {
	if len(k) < 9 {
		return false
	}
	st, err := storecodec.ParseCurrentState(cur.Get(k[:len(k)-9]))
	return err == nil && uint64(st.Version) == binary.BigEndian.Uint64(k[len(k)-8:])
}

// WriteCost is what this store's commits have written since it was opened: the
// commits of its group commit (0 when it commits otherwise) and the page writes of
// every write transaction (one system call each, data and meta pages). Pages per
// resource loaded is what a write costs the disk; it grows as the index outgrows
// what one commit's writes share.
type WriteCost struct {
	Commits, PageWrites int64
}

// WriteCost returns the write cost so far.
func (s *Store) WriteCost() WriteCost {
	var w WriteCost
	if s.commit != nil {
		w.Commits = int64(s.commit.commits.Load())
	}
	st := s.db.Stats()
	w.PageWrites = st.TxStats.GetWrite()
	return w
}
