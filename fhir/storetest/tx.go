package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

var errAbort = errors.New("storetest: abort")

// writeAll puts Patient/p1 with an index entry, counts nothing else and leaves an aux
// value: everything an Update can touch.
func writeAll(tx fhir.Tx) error {
	if err := tx.Put(rec("Patient", "p1", 1, at(1)), []fhir.IndexEntry{entry("name", "smith")}); err != nil {
		return err
	}
	return tx.PutAux("ns", "k", []byte("v"))
}

// assertUntouched fails if anything writeAll writes is visible.
func assertUntouched(t *testing.T, s fhir.Store) {
	t.Helper()
	if r := current(t, s, "Patient", "p1"); r != nil {
		t.Fatalf("rolled-back Put visible: %s", describe(r))
	}
	if n := count(t, s, "Patient"); n != 0 {
		t.Fatalf("rolled-back Put counted: %d", n)
	}
	equalLists(t, "rolled-back index", scan(t, s, "Patient", "name", nil, nil), nil)
	equalLists(t, "rolled-back history", history(t, s, fhir.HistoryFilter{}), nil)
	view(t, s, func(tx fhir.Tx) error {
		if v, err := tx.GetAux("ns", "k"); v != nil || err != nil {
			t.Fatalf("rolled-back aux visible: %q, %v", v, err)
		}
		return nil
	})
}

func testUpdateErrorRollsBack(t *testing.T, s fhir.Store) {
	err := s.Update(context.Background(), func(tx fhir.Tx) error {
		if err := writeAll(tx); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errAbort)
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("Update returned %v, want the error of fn", err)
	}
	assertUntouched(t, s)
	put(t, s, rec("Patient", "p1", 1, at(1))) // the store is still writable, from version 1
}

func testUpdatePanicRecovered(t *testing.T, s fhir.Store) {
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panic escaped Update: %v", p)
			}
		}()
		err = s.Update(context.Background(), func(tx fhir.Tx) error {
			if err := writeAll(tx); err != nil {
				return err
			}
			panic("storetest: boom")
		})
	}()
	if err == nil {
		t.Fatalf("Update returned nil after fn panicked")
	}
	assertUntouched(t, s)
	put(t, s, rec("Patient", "p1", 1, at(1)))
	if r := current(t, s, "Patient", "p1"); r == nil || r.Version != 1 {
		t.Fatalf("store unusable after a panic")
	}
}

func testUpdateSeesOwnWrites(t *testing.T, s fhir.Store) {
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "old")}, rec("Patient", "p0", 1, at(1)), rec("Patient", "p1", 1, at(1)))
	err := s.Update(context.Background(), func(tx fhir.Tx) error {
		if err := tx.Put(rec("Patient", "p1", 2, at(2)), []fhir.IndexEntry{entry("name", "new")}); err != nil {
			return err
		}
		if err := tx.Put(tombstone("Patient", "p0", 2, at(2)), nil); err != nil {
			return err
		}
		if err := tx.Put(rec("Patient", "p2", 1, at(2)), []fhir.IndexEntry{entry("name", "new")}); err != nil {
			return err
		}
		if err := tx.PutAux("ns", "k", []byte("v")); err != nil {
			return err
		}
		r, err := tx.Current("Patient", "p1")
		if err != nil || r.Version != 2 {
			return fmt.Errorf("current in tx = %v, %v; want version 2", r, err)
		}
		if n, err := tx.Count("Patient"); err != nil || n != 2 {
			return fmt.Errorf("count in tx = %d, %v; want 2", n, err)
		}
		var keys []string
		err = tx.ScanIndex("Patient", "name", nil, nil, func(k []byte, id string) bool {
			keys = append(keys, string(k)+"|"+id)
			return true
		})
		if err != nil || fmt.Sprint(keys) != "[new|p1 new|p2]" {
			return fmt.Errorf("scanIndex in tx = %v, %v", keys, err)
		}
		var ids []string
		if err := tx.ScanType("Patient", func(r *fhir.Record) bool { ids = append(ids, r.ID); return true }); err != nil {
			return err
		}
		if fmt.Sprint(ids) != "[p1 p2]" {
			return fmt.Errorf("scanType in tx = %v", ids)
		}
		var hist []string
		if err := tx.History(fhir.HistoryFilter{Type: "Patient"}, func(r *fhir.Record) bool {
			hist = append(hist, r.ID+"/"+strconv.FormatInt(r.Version, 10))
			return true
		}); err != nil {
			return err
		}
		if len(hist) != 5 {
			return fmt.Errorf("history in tx = %v, want 5 versions", hist)
		}
		if v, err := tx.GetAux("ns", "k"); err != nil || string(v) != "v" {
			return fmt.Errorf("GetAux in tx = %q, %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testViewIsReadOnly(t *testing.T, s fhir.Store) {
	err := s.View(context.Background(), func(tx fhir.Tx) error {
		if err := tx.Put(rec("Patient", "p1", 1, at(1)), nil); err == nil {
			t.Errorf("Put succeeded in a View")
		}
		if err := tx.PutAux("ns", "k", []byte("v")); err == nil {
			t.Errorf("PutAux succeeded in a View")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	assertUntouched(t, s)
	if err := s.View(context.Background(), func(fhir.Tx) error { return errAbort }); !errors.Is(err, errAbort) {
		t.Fatalf("View returned %v, want the error of fn", err)
	}
}

// testViewSnapshot has a writer move two resources and an index together while
// readers check, inside each View, that they never see one without the other.
func testViewSnapshot(t *testing.T, s fhir.Store) {
	ctx := context.Background()
	put(t, s, rec("Patient", "x", 1, at(0)), rec("Patient", "y", 1, at(0)))
	const rounds = 40
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for v := int64(2); v <= rounds; v++ {
			err := s.Update(ctx, func(tx fhir.Tx) error {
				key := []fhir.IndexEntry{entry("round", strconv.FormatInt(v, 10))}
				if err := tx.Put(rec("Patient", "x", v, at(int(v))), key); err != nil {
					return err
				}
				return tx.Put(rec("Patient", "y", v, at(int(v))), key)
			})
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	var torn atomic.Int64
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.View(ctx, func(tx fhir.Tx) error {
					x, err := tx.Current("Patient", "x")
					if err != nil {
						return err
					}
					var keys int
					if err := tx.ScanIndex("Patient", "round", nil, nil, func([]byte, string) bool { keys++; return true }); err != nil {
						return err
					}
					y, err := tx.Current("Patient", "y")
					if err != nil {
						return err
					}
					if x.Version != y.Version || (x.Version > 1 && keys != 2) {
						torn.Add(1)
					}
					return nil
				})
				if err != nil {
					t.Errorf("reader: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := torn.Load(); n > 0 {
		t.Fatalf("%d Views saw a half-applied Update", n)
	}
}

func testConcurrentCreates(t *testing.T, s fhir.Store) {
	const total, workers = 200, 16
	var wg sync.WaitGroup
	jobs := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id := fmt.Sprintf("c%03d", i)
				err := s.Update(context.Background(), func(tx fhir.Tx) error {
					return tx.Put(rec("Patient", id, 1, at(1)), []fhir.IndexEntry{entry("n", id)})
				})
				if err != nil {
					t.Errorf("create %s: %v", id, err)
				}
			}
		}()
	}
	for i := 0; i < total; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if n := count(t, s, "Patient"); n != total {
		t.Fatalf("Count = %d after %d concurrent creates", n, total)
	}
	if got := scan(t, s, "Patient", "n", nil, nil); len(got) != total {
		t.Fatalf("%d index entries after %d concurrent creates", len(got), total)
	}
	if got := history(t, s, fhir.HistoryFilter{Type: "Patient"}); len(got) != total {
		t.Fatalf("%d history entries after %d concurrent creates", len(got), total)
	}
}

// testConcurrentIncrements runs read-modify-write Updates on one resource and one aux
// counter from many goroutines. A store that runs fn more than once must keep only
// one run's effects: the counter ends exactly at the number of Updates.
func testConcurrentIncrements(t *testing.T, s fhir.Store) {
	const workers, each = 16, 10
	put(t, s, rec("Observation", "o", 1, at(0)))
	var runs atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Update(context.Background(), func(tx fhir.Tx) error {
					runs.Add(1)
					cur, err := tx.Current("Observation", "o")
					if err != nil {
						return err
					}
					raw, err := tx.GetAux("counter", "o")
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(raw))
					n++
					if err := tx.PutAux("counter", "o", []byte(strconv.Itoa(n))); err != nil {
						return err
					}
					next := rec("Observation", "o", cur.Version+1, at(int(cur.Version)))
					return tx.Put(next, []fhir.IndexEntry{entry("value", fmt.Sprintf("%05d", n))})
				})
				if err != nil {
					t.Errorf("increment: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	const want = workers * each
	if r := current(t, s, "Observation", "o"); r.Version != want+1 {
		t.Fatalf("version = %d after %d increments, want %d", r.Version, want, want+1)
	}
	view(t, s, func(tx fhir.Tx) error {
		raw, err := tx.GetAux("counter", "o")
		if err != nil || string(raw) != strconv.Itoa(want) {
			t.Fatalf("counter = %q, %v; want %d (fn ran %d times)", raw, err, want, runs.Load())
		}
		return nil
	})
	hist := history(t, s, fhir.HistoryFilter{Type: "Observation", ID: "o"})
	if len(hist) != want+1 || hist[0] != fmt.Sprintf("Observation/o/%d", want+1) || hist[want] != "Observation/o/1" {
		t.Fatalf("history has %d versions (%v…), want %d sequential", len(hist), hist[:min(3, len(hist))], want+1)
	}
	equalLists(t, "index after increments", scan(t, s, "Observation", "value", nil, nil),
		[]string{fmt.Sprintf(`"%05d"|o`, want)})
	t.Logf("%d Updates ran fn %d times", want, runs.Load())
}

// testConcurrentFailuresIsolated mixes failing and succeeding Updates: a store that
// coalesces commits must roll back only the failing callers' work.
func testConcurrentFailuresIsolated(t *testing.T, s fhir.Store) {
	const n = 64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("f%02d", i)
			err := s.Update(context.Background(), func(tx fhir.Tx) error {
				if err := tx.Put(rec("Patient", id, 1, at(1)), []fhir.IndexEntry{entry("n", id)}); err != nil {
					return err
				}
				if i%2 == 1 {
					return errAbort
				}
				return nil
			})
			if (i%2 == 1) != errors.Is(err, errAbort) {
				t.Errorf("Update %d returned %v", i, err)
			}
		}()
	}
	wg.Wait()
	var ids []string
	view(t, s, func(tx fhir.Tx) error {
		ids = ids[:0]
		return tx.ScanType("Patient", func(r *fhir.Record) bool { ids = append(ids, r.ID); return true })
	})
	if len(ids) != n/2 {
		t.Fatalf("%d resources stored, want the %d successful ones: %v", len(ids), n/2, ids)
	}
	for _, id := range ids {
		if k, _ := strconv.Atoi(id[1:]); k%2 == 1 {
			t.Fatalf("failed Update %s is visible", id)
		}
	}
	if got := scan(t, s, "Patient", "n", nil, nil); len(got) != n/2 {
		t.Fatalf("%d index entries, want %d", len(got), n/2)
	}
	if c := count(t, s, "Patient"); c != n/2 {
		t.Fatalf("Count = %d, want %d", c, n/2)
	}
}

func testCancelledContext(t *testing.T, s fhir.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Bool
	err := s.Update(ctx, func(tx fhir.Tx) error { ran.Store(true); return writeAll(tx) })
	if err == nil {
		t.Fatalf("Update with a cancelled context returned nil")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context returned %v, want context.Canceled", err)
	}
	assertUntouched(t, s)
	if err := s.View(ctx, func(fhir.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a cancelled context returned %v, want context.Canceled", err)
	}
	_ = ran.Load() // whether fn ran is the store's business; that nothing landed is not
}

// testIndexRewrittenInOneUpdate: a resource written twice in one Update (a
// transaction that creates then updates it, or a hook rewriting it) keeps only the
// entries of its last version, with nothing read in between to force the first
// version's entries out.
func testIndexRewrittenInOneUpdate(t *testing.T, s fhir.Store) {
	err := s.Update(context.Background(), func(tx fhir.Tx) error {
		for v, name := range []string{"first", "second", "third"} {
			entries := []fhir.IndexEntry{entry("name", name), entry("name", "kept")}
			if err := tx.Put(rec("Patient", "p1", int64(v+1), at(v+1)), entries); err != nil {
				return err
			}
			if err := tx.Put(rec("Patient", fmt.Sprintf("q%d", v), 1, at(v+1)), entries); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	equalLists(t, "name after three versions in one Update", scan(t, s, "Patient", "name", nil, nil),
		[]string{`"first"|q0`, `"kept"|p1`, `"kept"|q0`, `"kept"|q1`, `"kept"|q2`, `"second"|q1`, `"third"|p1`, `"third"|q2`})
}
