package bolt

import (
	"io"

	"github.com/aitgw/aitgw/fhir"

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
	return CopyTo(s.db, func(btx *bbolt.Tx, fn func(fhir.Tx) error) error { return run(fn, btx, 0) }, start)
}

// CopyTo streams a copy of db from one read snapshot, giving start the snapshot's
// size and the snapshot itself as the store's read transaction (view wraps a bbolt
// transaction as one): the backup of any bbolt-backed store.
func CopyTo(db *bbolt.DB, view func(*bbolt.Tx, func(fhir.Tx) error) error, start func(size int64, snap fhir.Tx) (io.Writer, error)) error {
	return db.View(func(btx *bbolt.Tx) error {
		return view(btx, func(t fhir.Tx) error {
			w, err := start(btx.Size(), t)
			if err != nil {
				return err
			}
			_, err = btx.WriteTo(w)
			return err
		})
	})
}
