package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Concurrent writes share commits; one that fails gets its own error and leaves no
// trace, and every other write of its batch commits.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openTemp(t)
	boom := errors.New("refused")
	const writers = 64
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			errs[i] = s.Update(context.Background(), func(tx fhir.Tx) error {
				if err := tx.PutAux("t", fmt.Sprint(i), []byte("v")); err != nil {
					return err
				}
				if i%7 == 3 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	err := s.View(context.Background(), func(tx fhir.Tx) error {
		for i := range writers {
			v, err := tx.GetAux("t", fmt.Sprint(i))
			if err != nil {
				return err
			}
			switch {
			case i%7 == 3 && !errors.Is(errs[i], boom):
				t.Errorf("write %d: error %v, want its own", i, errs[i])
			case i%7 == 3 && v != nil:
				t.Errorf("write %d failed but its row is stored", i)
			case i%7 != 3 && errs[i] != nil:
				t.Errorf("write %d: %v, want committed", i, errs[i])
			case i%7 != 3 && v == nil:
				t.Errorf("write %d acknowledged but not stored", i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A write whose caller gave up before its batch ran is not committed.
func TestGroupCommitCancelledWriteLeavesNothing(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux("t", "x", []byte("v")) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v, want context.Canceled", err)
	}
	_ = s.View(context.Background(), func(tx fhir.Tx) error {
		if v, _ := tx.GetAux("t", "x"); v != nil {
			t.Errorf("cancelled write stored")
		}
		return nil
	})
}

// Writes after Close fail instead of hanging.
func TestGroupCommitAfterClose(t *testing.T) {
	s := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Update(context.Background(), func(tx fhir.Tx) error { return nil }) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("write after Close succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("write after Close hangs")
	}
}

// Under concurrency, writes share commits: far fewer commits than writes.
func TestGroupCommitBatchesUnderLoad(t *testing.T) {
	s := openTemp(t)
	before := s.commit.commits.Load()
	const writers, each = 32, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.Update(context.Background(), func(tx fhir.Tx) error {
					return tx.PutAux("t", fmt.Sprint(w, "-", i), []byte("v"))
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	commits := s.commit.commits.Load() - before
	if commits >= writers*each/2 {
		t.Fatalf("%d commits for %d concurrent writes: not grouped", commits, writers*each)
	}
	t.Logf("%d writes in %d commits", writers*each, commits)
}

// Space splits the file by kind: an updated resource has history, an indexed one
// index rows.
func TestSpaceByKind(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	for v := int64(1); v <= 3; v++ {
		rec := &fhir.Record{Type: "Patient", ID: "p1", Version: v, LastUpdated: now, Body: []byte(`{"resourceType":"Patient","id":"p1"}`)}
		if err := s.Update(ctx, func(tx fhir.Tx) error {
			return tx.Put(rec, []fhir.IndexEntry{{Param: "name", Key: []byte("smith")}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := s.Space(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Versions != 3 || sp.Current != 1 {
		t.Fatalf("versions %d current %d, want 3 and 1", sp.Versions, sp.Current)
	}
	if sp.Resources <= 0 || sp.History <= 0 || sp.Index <= 0 || sp.File <= 0 {
		t.Fatalf("space %+v: every kind should hold bytes", sp)
	}
}

// The write cost counts the group commit's commits and the pages they wrote: each
// commit writes at least the pages it changed and a meta page.
func TestWriteCostCounts(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	before := s.WriteCost()
	for i := range 3 {
		rec := &fhir.Record{Type: "Patient", ID: fmt.Sprintf("p%d", i), Version: 1, LastUpdated: time.Now(), Body: []byte(`{"resourceType":"Patient"}`)}
		if err := s.Update(ctx, func(tx fhir.Tx) error {
			return tx.Put(rec, []fhir.IndexEntry{{Param: "name", Key: []byte("smith")}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	after := s.WriteCost()
	if commits := after.Commits - before.Commits; commits != 3 {
		t.Errorf("3 sequential writes made %d commits, want 3", commits)
	}
	if pages := after.PageWrites - before.PageWrites; pages < 3*2 {
		t.Errorf("3 commits wrote %d pages, want at least a data and a meta page each", pages)
	}
}
