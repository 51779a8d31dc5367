package appendonly

import (
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
)

// A new audit file is made with the larger pages; a file made before, with the
// system's 4 KiB pages, keeps them and its events.
func TestPageSizeOfNewAndOldFiles(t *testing.T) {
	s := openTemp(t)
	if got := s.db.Info().PageSize; got != pageSize {
		t.Errorf("new file: page size %d, want %d", got, pageSize)
	}

	path := filepath.Join(t.TempDir(), "old.db")
	db, err := bolt.OpenFile(path, time.Second, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(btx *bbolt.Tx) error { return initLayout(btx, typ) }); err != nil {
		t.Fatal(err)
	}
	old := &Store{db: db, typ: typ}
	mustUpdate(t, old, func(tx fhir.Tx) error { return tx.Put(event("e1", 1), []fhir.IndexEntry{ix("action", "R")}) })
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := openAt(t, path)
	if got := reopened.db.Info().PageSize; got != 4096 {
		t.Errorf("old file: page size %d after reopening, want 4096", got)
	}
	mustUpdate(t, reopened, func(tx fhir.Tx) error { return tx.Put(event("e2", 2), []fhir.IndexEntry{ix("action", "R")}) })
	if got := scanAll(t, reopened, "action", nil, nil); len(got) != 2 {
		t.Errorf("old file: action index %v, want both events", got)
	}
}
