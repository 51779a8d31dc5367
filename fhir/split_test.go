package fhir_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/appendonly"
	"github.com/aitgw/aitgw/fhir/bolt"
)

// countingSide counts the snapshots opened and released on an append-only store.
type countingSide struct {
	*appendonly.Store
	opened, released int
}

func (c *countingSide) Snapshot(ctx context.Context) (fhir.Tx, func(), error) {
	tx, release, err := c.Store.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	c.opened++
	return tx, func() { c.released++; release() }, nil
}

// twiceMain runs every Update's fn twice, the first run rolled back, as a batching
// store may.
type twiceMain struct{ fhir.Store }

var errRetry = errors.New("retry")

func (m twiceMain) Update(ctx context.Context, fn func(fhir.Tx) error) error {
	_ = m.Store.Update(ctx, func(tx fhir.Tx) error { _ = fn(tx); return errRetry })
	return m.Store.Update(ctx, fn)
}

// closeErr makes Close of a store fail.
type closeErr struct {
	fhir.Store
	err error
}

func (c closeErr) Close() error { _ = c.Store.Close(); return c.err }

var when = time.Date(2024, 3, 14, 9, 0, 0, 0, time.UTC)

func newSplit(t *testing.T) (fhir.Store, *bolt.Store, *countingSide) {
	t.Helper()
	dir := t.TempDir()
	main, err := bolt.Open(filepath.Join(dir, "main.db"), bolt.WithoutBatching())
	if err != nil {
		t.Fatal(err)
	}
	ao, err := appendonly.Open(filepath.Join(dir, "audit.db"), "AuditEvent")
	if err != nil {
		t.Fatal(err)
	}
	side := &countingSide{Store: ao}
	s := fhir.Split(twiceMain{main}, side, "AuditEvent")
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if err := main.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "Patient", ID: "p1", Version: 1, LastUpdated: when, Method: "POST", Body: []byte(`{}`)},
			[]fhir.IndexEntry{{Param: "name", Key: []byte("x")}})
	}); err != nil {
		t.Fatal(err)
	}
	if err := ao.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "AuditEvent", ID: "a1", Version: 1, LastUpdated: when.Add(time.Second), Method: "POST", Body: []byte(`{}`)},
			[]fhir.IndexEntry{{Param: "name", Key: []byte("x")}})
	}); err != nil {
		t.Fatal(err)
	}
	return s, main, side
}

func TestSplitRoutesByType(t *testing.T) {
	s, _, side := newSplit(t)
	err := s.View(context.Background(), func(tx fhir.Tx) error {
		for _, typ := range []string{"Patient", "AuditEvent"} {
			id := map[string]string{"Patient": "p1", "AuditEvent": "a1"}[typ]
			if r, err := tx.Current(typ, id); err != nil || r.ID != id {
				t.Errorf("Current(%s, %s) = %v, %v", typ, id, r, err)
			}
			if r, err := tx.Version(typ, id, 1); err != nil || r.ID != id {
				t.Errorf("Version(%s, %s) = %v, %v", typ, id, r, err)
			}
			var ids []string
			_ = tx.ScanIndex(typ, "name", nil, nil, func(_ []byte, id string) bool { ids = append(ids, id); return true })
			if !slices.Equal(ids, []string{id}) {
				t.Errorf("ScanIndex(%s) = %v", typ, ids)
			}
			if ix, err := tx.Index(typ, id); err != nil || len(ix) != 1 {
				t.Errorf("Index(%s) = %v, %v", typ, ix, err)
			}
			ids = ids[:0]
			_ = tx.ScanType(typ, func(r *fhir.Record) bool { ids = append(ids, r.ID); return true })
			if !slices.Equal(ids, []string{id}) {
				t.Errorf("ScanType(%s) = %v", typ, ids)
			}
			if n, err := tx.Count(typ); err != nil || n != 1 {
				t.Errorf("Count(%s) = %d, %v", typ, n, err)
			}
			ids = ids[:0]
			_ = tx.History(fhir.HistoryFilter{Type: typ}, func(r *fhir.Record) bool { ids = append(ids, r.ID); return true })
			if !slices.Equal(ids, []string{id}) {
				t.Errorf("History(%s) = %v", typ, ids)
			}
		}
		var ids []string
		_ = tx.History(fhir.HistoryFilter{}, func(r *fhir.Record) bool { ids = append(ids, r.ID); return true })
		if !slices.Equal(ids, []string{"p1"}) {
			t.Errorf("system history = %v, want main's only", ids)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if side.opened != 1 || side.released != 1 {
		t.Errorf("one View opened %d and released %d side snapshots, want 1 and 1", side.opened, side.released)
	}
}

func TestSplitLazySnapshot(t *testing.T) {
	s, _, side := newSplit(t)
	ctx := context.Background()
	err := s.View(ctx, func(tx fhir.Tx) error {
		_, err := tx.Current("Patient", "p1")
		_, _ = tx.Count("Observation")
		_ = tx.History(fhir.HistoryFilter{}, func(*fhir.Record) bool { return true })
		return err
	})
	if err != nil || side.opened != 0 {
		t.Fatalf("a View of main types opened %d side snapshots (%v)", side.opened, err)
	}
	// twiceMain runs fn twice: one snapshot per run, each released.
	err = s.Update(ctx, func(tx fhir.Tx) error {
		_, err := tx.Current("AuditEvent", "a1")
		return err
	})
	if err != nil || side.opened != 2 || side.released != 2 {
		t.Fatalf("Update run twice: opened %d, released %d (%v), want 2 and 2", side.opened, side.released, err)
	}
}

func TestSplitRefusesSidePuts(t *testing.T) {
	s, main, _ := newSplit(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "AuditEvent", ID: "a2", Version: 1, Body: []byte(`{}`)}, nil)
	})
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusMethodNotAllowed {
		t.Fatalf("Put of a side type = %v, want a 405 *fhir.Error", err)
	}
	is := fe.Outcome.Issue[0]
	if is.Code != "not-supported" || !slices.Equal(is.Expression, []string{"AuditEvent"}) ||
		is.Diagnostics != "AuditEvent resources are recorded by the server itself and never changed (append-only)" {
		t.Errorf("issue = %+v", is)
	}
	// Other types and aux records go to main.
	if err := s.Update(ctx, func(tx fhir.Tx) error {
		if err := tx.PutAux("ns", "k", []byte("v")); err != nil {
			return err
		}
		return tx.Put(&fhir.Record{Type: "Patient", ID: "p2", Version: 1, LastUpdated: when, Method: "POST", Body: []byte(`{}`)}, nil)
	}); err != nil {
		t.Fatal(err)
	}
	err = main.View(ctx, func(tx fhir.Tx) error {
		if v, err := tx.GetAux("ns", "k"); err != nil || string(v) != "v" {
			t.Errorf("aux in main = %q, %v", v, err)
		}
		_, err := tx.Current("Patient", "p2")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx fhir.Tx) error {
		v, err := tx.GetAux("ns", "k")
		if string(v) != "v" {
			t.Errorf("GetAux through Split = %q", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSplitCloseClosesBoth(t *testing.T) {
	s, main, side := newSplit(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	noop := func(fhir.Tx) error { return nil }
	if main.View(ctx, noop) == nil || side.View(ctx, noop) == nil {
		t.Fatalf("a store is still open after Close")
	}
	dir := t.TempDir()
	m2, _ := bolt.Open(filepath.Join(dir, "m.db"))
	a2, _ := appendonly.Open(filepath.Join(dir, "a.db"), "AuditEvent")
	first, second := errors.New("main close"), errors.New("side close")
	err := fhir.Split(closeErr{m2, first}, &closeErrSide{a2, second}, "AuditEvent").Close()
	if !errors.Is(err, first) || strings.Contains(err.Error(), "side") {
		t.Errorf("Close = %v, want the first error", err)
	}
	m3, _ := bolt.Open(filepath.Join(dir, "m3.db"))
	a3, _ := appendonly.Open(filepath.Join(dir, "a3.db"), "AuditEvent")
	if err := fhir.Split(m3, &closeErrSide{a3, second}, "AuditEvent").Close(); !errors.Is(err, second) {
		t.Errorf("Close with only side failing = %v", err)
	}
}

// closeErrSide makes Close of a Snapshotter fail.
type closeErrSide struct {
	*appendonly.Store
	err error
}

func (c *closeErrSide) Close() error { _ = c.Store.Close(); return c.err }
