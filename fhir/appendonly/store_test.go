package appendonly

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

const typ = "AuditEvent"

var base = time.Date(2024, 3, 14, 9, 26, 53, 589793238, time.UTC)

func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path, typ)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openTemp(t testing.TB) *Store {
	return openAt(t, filepath.Join(t.TempDir(), "data", "audit.db"))
}

func event(id string, sec int) *fhir.Record {
	return &fhir.Record{Type: typ, ID: id, Version: 1, LastUpdated: base.Add(time.Duration(sec) * time.Second),
		Method: "POST", Body: []byte(`{"resourceType":"AuditEvent","id":"` + id + `"}`)}
}

func ix(param, key string) fhir.IndexEntry { return fhir.IndexEntry{Param: param, Key: []byte(key)} }

func mustUpdate(t testing.TB, s fhir.Store, fn func(fhir.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustView(t testing.TB, s fhir.Store, fn func(fhir.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// scanAll lists ScanIndex output as "key|id" with the key quoted.
func scanAll(t testing.TB, s fhir.Store, param string, from, to []byte) []string {
	t.Helper()
	var out []string
	mustView(t, s, func(tx fhir.Tx) error {
		out = out[:0]
		return tx.ScanIndex(typ, param, from, to, func(k []byte, id string) bool {
			out = append(out, fmt.Sprintf("%q|%s", k, id))
			return true
		})
	})
	return out
}

func sameRecord(t *testing.T, got, want *fhir.Record) {
	t.Helper()
	if got == nil || got.Type != want.Type || got.ID != want.ID || got.Version != want.Version || got.Method != want.Method ||
		got.Deleted != want.Deleted || !got.LastUpdated.Equal(want.LastUpdated) || string(got.Body) != string(want.Body) {
		t.Fatalf("record = %+v, want %+v", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	s := openTemp(t)
	e1, e2 := event("e1", 1), event("e2", 2)
	mustUpdate(t, s, func(tx fhir.Tx) error {
		if err := tx.Put(e1, []fhir.IndexEntry{ix("type", "rest"), ix("agent", "p1"), ix("type", "rest"), ix("date", "\x00x")}); err != nil {
			return err
		}
		return tx.Put(e2, []fhir.IndexEntry{ix("type", "rest")})
	})
	mustView(t, s, func(tx fhir.Tx) error {
		for _, want := range []*fhir.Record{e1, e2} {
			got, err := tx.Current(typ, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameRecord(t, got, want)
			if got, err = tx.Version(typ, want.ID, 1); err != nil {
				t.Fatal(err)
			}
			sameRecord(t, got, want)
		}
		for _, c := range []struct {
			typ, id string
			v       int64
		}{{typ, "e1", 2}, {typ, "e1", 0}, {typ, "zz", 1}, {"Patient", "e1", 1}} {
			if _, err := tx.Version(c.typ, c.id, c.v); !errors.Is(err, fhir.ErrNotFound) {
				t.Errorf("Version(%s, %s, %d) = %v, want ErrNotFound", c.typ, c.id, c.v, err)
			}
		}
		if _, err := tx.Current("Patient", "e1"); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("Current of another type: %v", err)
		}
		got, err := tx.Index(typ, "e1")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"agent=p1", "date=\x00x", "type=rest"}
		if len(got) != len(want) {
			t.Fatalf("Index = %+v, want %q", got, want)
		}
		for i, e := range got {
			if e.Param+"="+string(e.Key) != want[i] {
				t.Fatalf("Index[%d] = %s=%q, want %q", i, e.Param, e.Key, want[i])
			}
		}
		if got, _ := tx.Index(typ, "zz"); got != nil {
			t.Errorf("Index of unknown id = %+v", got)
		}
		if n, _ := tx.Count(typ); n != 2 {
			t.Errorf("Count = %d, want 2", n)
		}
		if n, _ := tx.Count("Patient"); n != 0 {
			t.Errorf("Count of another type = %d", n)
		}
		if _, err := tx.GetAux("ns", "k"); err == nil {
			t.Errorf("GetAux succeeded")
		}
		return nil
	})
	if got, want := scanAll(t, s, "type", nil, nil), []string{`"rest"|e1`, `"rest"|e2`}; !slices.Equal(got, want) {
		t.Errorf("scan type = %v, want %v", got, want)
	}
}

func TestRefusedPuts(t *testing.T) {
	s := openTemp(t)
	mustUpdate(t, s, func(tx fhir.Tx) error { return tx.Put(event("e1", 1), nil) })
	v2 := event("e2", 1)
	v2.Version = 2
	tomb := event("e3", 1)
	tomb.Deleted, tomb.Body = true, nil
	other := event("e4", 1)
	other.Type = "Patient"
	empty := event("e5", 1)
	empty.Body = nil
	cases := map[string]func(fhir.Tx) error{
		"stored id":   func(tx fhir.Tx) error { return tx.Put(event("e1", 2), nil) },
		"same tx id":  func(tx fhir.Tx) error { _ = tx.Put(event("e6", 2), nil); return tx.Put(event("e6", 3), nil) },
		"version 2":   func(tx fhir.Tx) error { return tx.Put(v2, nil) },
		"tombstone":   func(tx fhir.Tx) error { return tx.Put(tomb, nil) },
		"other type":  func(tx fhir.Tx) error { return tx.Put(other, nil) },
		"empty body":  func(tx fhir.Tx) error { return tx.Put(empty, nil) },
		"empty param": func(tx fhir.Tx) error { return tx.Put(event("e7", 1), []fhir.IndexEntry{ix("", "k")}) },
		"nil record":  func(tx fhir.Tx) error { return tx.Put(nil, nil) },
		"aux":         func(tx fhir.Tx) error { return tx.PutAux("ns", "k", []byte("v")) },
	}
	for name, fn := range cases {
		if err := s.Update(context.Background(), fn); err == nil {
			t.Errorf("%s: Update succeeded", name)
		}
	}
	if err := s.View(context.Background(), func(tx fhir.Tx) error { return tx.Put(event("e8", 1), nil) }); err == nil {
		t.Errorf("Put in a View succeeded")
	}
	mustView(t, s, func(tx fhir.Tx) error {
		if n, _ := tx.Count(typ); n != 1 {
			t.Errorf("Count after refused puts = %d, want 1", n)
		}
		if _, err := tx.Current(typ, "e6"); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("e6 of a failed Update is visible: %v", err)
		}
		return nil
	})
}

func TestRollback(t *testing.T) {
	s := openTemp(t)
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx fhir.Tx) error {
		if err := tx.Put(event("e1", 1), []fhir.IndexEntry{ix("p", "k")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if err := s.Update(context.Background(), func(tx fhir.Tx) error { _ = tx.Put(event("e2", 1), nil); panic("x") }); err == nil {
		t.Fatalf("panic in fn came back as nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	runs := 0
	if err := s.Update(ctx, func(tx fhir.Tx) error { runs++; return tx.Put(event("e3", 1), nil) }); !errors.Is(err, context.Canceled) || runs != 0 {
		t.Fatalf("Update on a cancelled context = %v after %d runs", err, runs)
	}
	mustView(t, s, func(tx fhir.Tx) error {
		n, _ := tx.Count(typ)
		var ids []string
		_ = tx.ScanType(typ, func(r *fhir.Record) bool { ids = append(ids, r.ID); return true })
		if n != 0 || len(ids) != 0 {
			t.Errorf("after rollbacks: count %d, records %v", n, ids)
		}
		return nil
	})
	if got := scanAll(t, s, "p", nil, nil); len(got) != 0 {
		t.Errorf("rolled back entries are visible: %v", got)
	}
}

func TestUpdateRunsOnceAndSeesOwnWrites(t *testing.T) {
	s := openTemp(t)
	mustUpdate(t, s, func(tx fhir.Tx) error { return tx.Put(event("e1", 1), []fhir.IndexEntry{ix("p", "b")}) })
	runs := 0
	mustUpdate(t, s, func(tx fhir.Tx) error {
		runs++
		for _, e := range []struct{ id, key string }{{"e2", "b"}, {"e3", "a"}, {"e4", "c"}} {
			if err := tx.Put(event(e.id, 2), []fhir.IndexEntry{ix("p", e.key)}); err != nil {
				return err
			}
		}
		var got []string
		_ = tx.ScanIndex(typ, "p", []byte("a"), []byte("c"), func(k []byte, id string) bool {
			got = append(got, string(k)+"|"+id)
			return true
		})
		if want := []string{"a|e3", "b|e1", "b|e2"}; !slices.Equal(got, want) {
			t.Errorf("scan inside the Update = %v, want %v", got, want)
		}
		if n, _ := tx.Count(typ); n != 4 {
			t.Errorf("Count inside the Update = %d, want 4", n)
		}
		return nil
	})
	if runs != 1 {
		t.Errorf("fn ran %d times", runs)
	}
	if got, want := scanAll(t, s, "p", nil, nil), []string{`"a"|e3`, `"b"|e1`, `"b"|e2`, `"c"|e4`}; !slices.Equal(got, want) {
		t.Errorf("scan = %v, want %v", got, want)
	}
}

func TestDurableAndFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s := openAt(t, path)
	e := event("e1", 1)
	mustUpdate(t, s, func(tx fhir.Tx) error { return tx.Put(e, []fhir.IndexEntry{ix("p", "k")}) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Open(path, "Patient"); err == nil || !strings.Contains(err.Error(), "AuditEvent") {
		t.Fatalf("Open for another type = %v", err)
	}
	s = openAt(t, path)
	mustView(t, s, func(tx fhir.Tx) error {
		got, err := tx.Current(typ, "e1")
		if err != nil {
			t.Fatal(err)
		}
		sameRecord(t, got, e)
		if n, _ := tx.Count(typ); n != 1 {
			t.Errorf("Count after reopen = %d", n)
		}
		return nil
	})
	if got := scanAll(t, s, "p", nil, nil); !slices.Equal(got, []string{`"k"|e1`}) {
		t.Errorf("scan after reopen = %v", got)
	}
	// Another commit after reopen keeps its own sequence.
	mustUpdate(t, s, func(tx fhir.Tx) error { return tx.Put(event("e2", 2), []fhir.IndexEntry{ix("p", "k")}) })
	if got := scanAll(t, s, "p", nil, nil); !slices.Equal(got, []string{`"k"|e1`, `"k"|e2`}) {
		t.Errorf("scan after a second commit = %v", got)
	}
}

func TestSnapshot(t *testing.T) {
	s := openTemp(t)
	mustUpdate(t, s, func(tx fhir.Tx) error { return tx.Put(event("e1", 1), nil) })
	snap, release, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s, func(tx fhir.Tx) error { return tx.Put(event("e2", 2), nil) })
	if n, _ := snap.Count(typ); n != 1 {
		t.Errorf("snapshot sees a later commit: count %d", n)
	}
	if err := snap.Put(event("e3", 3), nil); err == nil {
		t.Errorf("Put on a snapshot succeeded")
	}
	release()
	release()
}

// TestIndexThroughDictionaries: an event's entries are kept as ordinals in its commit's
// dictionary; they read back the same inside the commit, after it, across commits
// sharing entries, and for a commit without any entry.
func TestIndexThroughDictionaries(t *testing.T) {
	s := openTemp(t)
	shared, own := ix("type", "crest\x00"), func(id string) fhir.IndexEntry { return ix("_id", "c"+id+"\x00") }
	mustUpdate(t, s, func(tx fhir.Tx) error { return tx.Put(event("e0", 0), nil) })
	for c := 1; c <= 3; c++ {
		mustUpdate(t, s, func(tx fhir.Tx) error {
			for i := 0; i < 3; i++ {
				id := fmt.Sprintf("e%d%d", c, i)
				if err := tx.Put(event(id, c), []fhir.IndexEntry{own(id), shared, ix("date", "l\x00\xff")}); err != nil {
					return err
				}
				got, err := tx.Index(typ, id)
				if err != nil || len(got) != 3 || got[0].Param != "_id" || string(got[0].Key) != "c"+id+"\x00" {
					t.Errorf("Index(%s) inside its commit = %q, %v", id, got, err)
				}
			}
			return nil
		})
	}
	mustView(t, s, func(tx fhir.Tx) error {
		if got, err := tx.Index(typ, "e0"); err != nil || got != nil {
			t.Errorf("Index of an event without entries = %q, %v", got, err)
		}
		for c := 1; c <= 3; c++ {
			for i := 0; i < 3; i++ {
				id := fmt.Sprintf("e%d%d", c, i)
				got, err := tx.Index(typ, id)
				want := []fhir.IndexEntry{own(id), ix("date", "l\x00\xff"), shared}
				if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
					t.Errorf("Index(%s) = %q, %v; want %q", id, got, err, want)
				}
			}
		}
		return nil
	})
}

// TestFailedPutLeavesNoTrace: a Put the store refuses midway (an id too long for a
// key) lists nothing in the index, and the resource put after it in the same
// transaction has its own entries only.
func TestFailedPutLeavesNoTrace(t *testing.T) {
	s := openTemp(t)
	mustUpdate(t, s, func(tx fhir.Tx) error {
		long := "z" + strings.Repeat("x", 40000)
		if err := tx.Put(event(long, 1), []fhir.IndexEntry{ix("p", "bad")}); err == nil {
			t.Error("a 40 kB id was accepted")
		}
		return tx.Put(event("ok1", 2), []fhir.IndexEntry{ix("p", "good")})
	})
	if got, want := scanAll(t, s, "p", nil, nil), []string{`"good"|ok1`}; !slices.Equal(got, want) {
		t.Errorf("index = %v, want %v", got, want)
	}
}
