package appendonly

import (
	"io"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"

	"go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the store's file to w from one read snapshot:
// writers go on meanwhile (bbolt's copy-on-write pages keep the snapshot intact), so
// the gateway serves while it is taken. It returns the bytes written; the copy is a
// valid store file, to be opened by Open.
func (s *Store) Backup(w io.Writer) (size int64, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		size, err = tx.WriteTo(w)
		return err
	})
	return size, err
}

// BackupTo is Backup with the snapshot given to start before anything is written:
// its size (an archive header needs it) and the snapshot as a read transaction, so
// that what the copy holds can be counted from the very state it copies.
func (s *Store) BackupTo(start func(size int64, snap fhir.Tx) (io.Writer, error)) error {
	return bolt.CopyTo(s.db, func(btx *bbolt.Tx, fn func(fhir.Tx) error) error { return run(fn, s.newTx(btx)) }, start)
}
