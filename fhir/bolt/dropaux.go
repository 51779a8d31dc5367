package bolt

import (
	"bytes"
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
)

var _ fhir.AuxDropper = (*Store)(nil)

// dropChunk bounds the deletions of one commit, so that dropping a large namespace
// does not build one huge transaction.
const dropChunk = 10000

// DropAux deletes every record of aux namespace ns, in commits of dropChunk records.
// A namespace already empty costs a read and no commit.
func (s *Store) DropAux(ctx context.Context, ns string) (int, error) {
	prefix := append([]byte(ns), 0)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		found := false
		if err := s.db.View(func(tx *bbolt.Tx) error {
			k, _ := tx.Bucket(bucketAux).Cursor().Seek(prefix)
			found = k != nil && bytes.HasPrefix(k, prefix)
			return nil
		}); err != nil || !found {
			return total, err
		}
		n := 0
		err := s.db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketAux).Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && n < dropChunk; k, _ = c.Seek(prefix) {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil {
			return total, err
		}
	}
}
