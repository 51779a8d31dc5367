package bolt

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storetest"
)

func openTemp(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "data", "aitgw.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fhir.Store { return openTemp(t) })
}

func TestStoreSuiteUnbatched(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fhir.Store { return openTemp(t, WithoutBatching()) })
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T, dir string) fhir.Store {
		s, err := Open(filepath.Join(dir, "aitgw.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestSecondOpenIsRefusedByLock(t *testing.T) {
	s := openTemp(t)
	start := time.Now()
	_, err := Open(s.Path(), WithLockTimeout(100*time.Millisecond))
	if err == nil {
		t.Fatalf("second Open of a locked file succeeded")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open error does not name the lock: %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("second Open waited %s, lock timeout was 100ms", waited)
	}
}

func TestOpenRefusesOtherFormat(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	if err := s.db.Update(func(tx *bboltTx) error { return tx.Bucket(bucketMeta).Put([]byte("format"), []byte("other/9")) }); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "other/9") {
		t.Fatalf("Open of a file in another format: %v", err)
	}
}
