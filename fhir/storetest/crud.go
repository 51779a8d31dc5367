package storetest

import (
	"bytes"
	"errors"
	"testing"

	"context"

	"github.com/aitgw/aitgw/fhir"
)

func testPutCurrentVersion(t *testing.T, s fhir.Store) {
	if r := current(t, s, "Patient", "p1"); r != nil {
		t.Fatalf("empty store has Patient/p1: %s", describe(r))
	}
	v1 := rec("Patient", "p1", 1, at(1))
	put(t, s, v1)
	sameRecord(t, current(t, s, "Patient", "p1"), v1)

	v2 := rec("Patient", "p1", 2, at(2))
	v2.Body = append(v2.Body[:len(v2.Body)-1], []byte(`,"active":true}`)...)
	put(t, s, v2)
	sameRecord(t, current(t, s, "Patient", "p1"), v2)

	view(t, s, func(tx fhir.Tx) error {
		got, err := tx.Version("Patient", "p1", 1)
		if err != nil {
			t.Fatalf("Version 1: %v", err)
		}
		sameRecord(t, got, v1)
		got, err = tx.Version("Patient", "p1", 2)
		if err != nil {
			t.Fatalf("Version 2: %v", err)
		}
		sameRecord(t, got, v2)
		for _, v := range []int64{0, 3, -1} {
			if _, err := tx.Version("Patient", "p1", v); !errors.Is(err, fhir.ErrNotFound) {
				t.Fatalf("Version %d: got %v, want ErrNotFound", v, err)
			}
		}
		if _, err := tx.Version("Patient", "nope", 1); !errors.Is(err, fhir.ErrNotFound) {
			t.Fatalf("Version of unknown id: got %v, want ErrNotFound", err)
		}
		if _, err := tx.Current("Observation", "p1"); !errors.Is(err, fhir.ErrNotFound) {
			t.Fatalf("Current of same id, other type: got %v, want ErrNotFound", err)
		}
		return nil
	})
	// Ids that are prefixes of each other stay distinct.
	put(t, s, rec("Patient", "p", 1, at(3)), rec("Patient", "p10", 1, at(3)))
	if r := current(t, s, "Patient", "p1"); r == nil || r.Version != 2 {
		t.Fatalf("Patient/p1 disturbed by Patient/p and Patient/p10")
	}
}

func testRecordsAreCopies(t *testing.T, s fhir.Store) {
	v1 := rec("Patient", "p1", 1, at(1))
	want := *v1
	want.Body = bytes.Clone(v1.Body)
	index := []fhir.IndexEntry{entry("name", "smith")}
	putIndexed(t, s, index, v1)
	// The caller reusing its buffers after Update must not change the store.
	v1.Body[2] = 'X'
	index[0].Key[0] = 'X'
	got := current(t, s, "Patient", "p1")
	sameRecord(t, got, &want)
	got.Body[2] = 'Y'
	sameRecord(t, current(t, s, "Patient", "p1"), &want)
	equalLists(t, "index after caller mutation", scan(t, s, "Patient", "name", nil, nil), []string{`"smith"|p1`})
}

func testVersionsSequential(t *testing.T, s fhir.Store) {
	ctx := context.Background()
	try := func(r *fhir.Record) error {
		return s.Update(ctx, func(tx fhir.Tx) error { return tx.Put(r, nil) })
	}
	if err := try(rec("Patient", "p1", 2, at(1))); !errors.Is(err, fhir.ErrConflict) {
		t.Fatalf("create at version 2: got %v, want ErrConflict", err)
	}
	if err := try(rec("Patient", "p1", 1, at(1))); err != nil {
		t.Fatalf("create at version 1: %v", err)
	}
	for _, v := range []int64{1, 3, 0, -1} {
		if err := try(rec("Patient", "p1", v, at(2))); !errors.Is(err, fhir.ErrConflict) {
			t.Fatalf("put version %d over version 1: got %v, want ErrConflict", v, err)
		}
	}
	if err := try(rec("Patient", "p1", 2, at(2))); err != nil {
		t.Fatalf("put version 2: %v", err)
	}
	if got := history(t, s, fhir.HistoryFilter{Type: "Patient", ID: "p1"}); len(got) != 2 {
		t.Fatalf("rejected versions left traces in history: %v", got)
	}
	// Two Puts of the same resource in one transaction must chain too.
	err := s.Update(ctx, func(tx fhir.Tx) error {
		if err := tx.Put(rec("Patient", "p1", 3, at(3)), nil); err != nil {
			return err
		}
		return tx.Put(rec("Patient", "p1", 3, at(3)), nil)
	})
	if !errors.Is(err, fhir.ErrConflict) {
		t.Fatalf("same version twice in one Update: got %v, want ErrConflict", err)
	}
	if r := current(t, s, "Patient", "p1"); r.Version != 2 {
		t.Fatalf("failed Update left version %d, want 2", r.Version)
	}
}

func testInvalidRecords(t *testing.T, s fhir.Store) {
	ctx := context.Background()
	bad := map[string]*fhir.Record{
		"nil record": nil,
		"empty type": rec("", "p1", 1, at(1)),
		"empty id":   rec("Patient", "", 1, at(1)),
		"NUL in id":  rec("Patient", "a\x00b", 1, at(1)),
	}
	for name, r := range bad {
		err := s.Update(ctx, func(tx fhir.Tx) error { return tx.Put(r, nil) })
		if err == nil {
			t.Errorf("%s: Put accepted it", name)
		}
	}
	err := s.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(rec("Patient", "p1", 1, at(1)), []fhir.IndexEntry{{Param: "", Key: []byte("x")}})
	})
	if err == nil {
		t.Errorf("Put accepted an index entry without a parameter name")
	}
	if r := current(t, s, "Patient", "p1"); r != nil {
		t.Fatalf("rejected Put left %s", describe(r))
	}
}

func testTombstone(t *testing.T, s fhir.Store) {
	index := []fhir.IndexEntry{entry("name", "smith"), entry("gender", "female")}
	v1 := rec("Patient", "p1", 1, at(1))
	putIndexed(t, s, index, v1)
	put(t, s, rec("Patient", "p2", 1, at(1)))
	if n := count(t, s, "Patient"); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	v2 := tombstone("Patient", "p1", 2, at(2))
	v2.Body = []byte(`{"ignored":true}`) // a tombstone keeps no body, whatever the caller sent
	putIndexed(t, s, index, v2)          // nor index entries
	got := current(t, s, "Patient", "p1")
	sameRecord(t, got, v2)
	if got.Body != nil {
		t.Fatalf("tombstone has a body %q", got.Body)
	}
	if n := count(t, s, "Patient"); n != 1 {
		t.Fatalf("Count after delete = %d, want 1", n)
	}
	equalLists(t, "name index after delete", scan(t, s, "Patient", "name", nil, nil), nil)
	equalLists(t, "gender index after delete", scan(t, s, "Patient", "gender", nil, nil), nil)
	view(t, s, func(tx fhir.Tx) error {
		idx, err := tx.Index("Patient", "p1")
		if err != nil || len(idx) != 0 {
			t.Fatalf("Index of deleted resource = %v, %v; want none", idx, err)
		}
		old, err := tx.Version("Patient", "p1", 1)
		if err != nil {
			t.Fatalf("version 1 lost after delete: %v", err)
		}
		sameRecord(t, old, v1)
		return nil
	})
	equalLists(t, "history keeps tombstone", history(t, s, fhir.HistoryFilter{Type: "Patient", ID: "p1"}),
		[]string{"Patient/p1/2", "Patient/p1/1"})
	var scanned []string
	view(t, s, func(tx fhir.Tx) error {
		scanned = scanned[:0]
		return tx.ScanType("Patient", func(r *fhir.Record) bool { scanned = append(scanned, r.ID); return true })
	})
	equalLists(t, "ScanType skips deleted", scanned, []string{"p2"})

	// Deleting again and then re-creating keep the count right.
	put(t, s, tombstone("Patient", "p1", 3, at(3)))
	if n := count(t, s, "Patient"); n != 1 {
		t.Fatalf("Count after second delete = %d, want 1", n)
	}
	putIndexed(t, s, index, rec("Patient", "p1", 4, at(4)))
	if n := count(t, s, "Patient"); n != 2 {
		t.Fatalf("Count after re-create = %d, want 2", n)
	}
	equalLists(t, "index after re-create", scan(t, s, "Patient", "name", nil, nil), []string{`"smith"|p1`})
	// A tombstone for an id that never existed is a valid first version.
	put(t, s, tombstone("Patient", "ghost", 1, at(5)))
	if n := count(t, s, "Patient"); n != 2 {
		t.Fatalf("Count after deleting a never-created id = %d, want 2", n)
	}
}

func testScanTypeAndCount(t *testing.T, s fhir.Store) {
	put(t, s, rec("Patient", "b", 1, at(1)), rec("Patient", "a", 1, at(1)), rec("Patient", "c", 1, at(1)),
		rec("Patient", "d", 1, at(1)), rec("Observation", "a", 1, at(1)), rec("Patient", "b", 2, at(2)))
	put(t, s, tombstone("Patient", "d", 2, at(3)))
	var got []string
	var versions []int64
	view(t, s, func(tx fhir.Tx) error {
		got, versions = got[:0], versions[:0]
		return tx.ScanType("Patient", func(r *fhir.Record) bool {
			if r.Type != "Patient" || r.Body == nil {
				t.Errorf("ScanType gave %s", describe(r))
			}
			got = append(got, r.ID)
			versions = append(versions, r.Version)
			return true
		})
	})
	equalLists(t, "ScanType ids", got, []string{"a", "b", "c"})
	if versions[1] != 2 {
		t.Fatalf("ScanType gave version %d of Patient/b, want the current 2", versions[1])
	}
	view(t, s, func(tx fhir.Tx) error {
		got = got[:0]
		return tx.ScanType("Patient", func(r *fhir.Record) bool { got = append(got, r.ID); return len(got) < 2 })
	})
	equalLists(t, "ScanType stops", got, []string{"a", "b"})
	for typ, want := range map[string]int{"Patient": 3, "Observation": 1, "Encounter": 0} {
		if n := count(t, s, typ); n != want {
			t.Errorf("Count(%s) = %d, want %d", typ, n, want)
		}
	}
}

func testAux(t *testing.T, s fhir.Store) {
	ctx := context.Background()
	get := func(ns, key string) []byte {
		var v []byte
		view(t, s, func(tx fhir.Tx) error {
			var err error
			v, err = tx.GetAux(ns, key)
			return err
		})
		return v
	}
	putAux := func(ns, key string, v []byte) {
		if err := s.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux(ns, key, v) }); err != nil {
			t.Fatalf("PutAux: %v", err)
		}
	}
	if v := get("pages", "k1"); v != nil {
		t.Fatalf("missing aux = %q, want nil", v)
	}
	val := []byte("page one \x00\xff")
	putAux("pages", "k1", val)
	putAux("replay", "k1", []byte("other namespace"))
	putAux("pages", "k10", []byte("longer key"))
	val[0] = 'X' // the store keeps its own copy
	if v := get("pages", "k1"); string(v) != "page one \x00\xff" {
		t.Fatalf("aux = %q", v)
	}
	if v := get("replay", "k1"); string(v) != "other namespace" {
		t.Fatalf("aux in other namespace = %q", v)
	}
	putAux("pages", "k1", []byte("page two"))
	if v := get("pages", "k1"); string(v) != "page two" {
		t.Fatalf("overwritten aux = %q", v)
	}
	putAux("pages", "k1", nil)
	if v := get("pages", "k1"); v != nil {
		t.Fatalf("deleted aux = %q, want nil", v)
	}
	if v := get("replay", "k1"); string(v) != "other namespace" {
		t.Fatalf("delete leaked across namespaces: %q", v)
	}
	if v := get("pages", "k10"); string(v) != "longer key" {
		t.Fatalf("delete leaked to a longer key: %q", v)
	}
	putAux("pages", "missing", nil) // deleting nothing is fine
}
