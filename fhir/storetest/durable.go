package storetest

import (
	"context"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// DirOpener opens the store kept in dir, creating it when dir is empty. Opening the
// same dir again after Close must find the same data.
type DirOpener func(t *testing.T, dir string) fhir.Store

// RunDurable checks that everything a store keeps survives Close and reopening, and
// that writing goes on correctly afterwards (versions, counts, history order).
func RunDurable(t *testing.T, open DirOpener) {
	dir := t.TempDir()
	s := open(t, dir)
	index := []fhir.IndexEntry{entry("name", "smith"), entry("bin", "\x00\xff")}
	putIndexed(t, s, index, rec("Patient", "p1", 1, at(1)), rec("Patient", "p2", 1, at(1)))
	putIndexed(t, s, index, rec("Patient", "p1", 2, at(2)))
	put(t, s, tombstone("Patient", "p2", 2, at(3)))
	if err := s.Update(context.Background(), func(tx fhir.Tx) error { return tx.PutAux("ns", "k", []byte("kept")) }); err != nil {
		t.Fatalf("PutAux: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, dir)
	t.Cleanup(func() { _ = s.Close() })
	sameRecord(t, current(t, s, "Patient", "p1"), rec("Patient", "p1", 2, at(2)))
	sameRecord(t, current(t, s, "Patient", "p2"), tombstone("Patient", "p2", 2, at(3)))
	if n := count(t, s, "Patient"); n != 1 {
		t.Fatalf("Count after reopen = %d, want 1", n)
	}
	equalLists(t, "index after reopen", scan(t, s, "Patient", "name", nil, nil), []string{`"smith"|p1`})
	equalLists(t, "binary index after reopen", scan(t, s, "Patient", "bin", nil, nil), []string{`"\x00\xff"|p1`})
	equalLists(t, "history after reopen", history(t, s, fhir.HistoryFilter{}),
		[]string{"Patient/p2/2", "Patient/p1/2", "Patient/p2/1", "Patient/p1/1"})
	view(t, s, func(tx fhir.Tx) error {
		if v, err := tx.GetAux("ns", "k"); err != nil || string(v) != "kept" {
			t.Fatalf("aux after reopen = %q, %v", v, err)
		}
		return nil
	})

	// Writing goes on where it stopped; versions written in the same second as older
	// ones still come first in history.
	put(t, s, rec("Patient", "p1", 3, at(3)), rec("Patient", "p2", 3, at(3)))
	if n := count(t, s, "Patient"); n != 2 {
		t.Fatalf("Count after writing on = %d, want 2", n)
	}
	got := history(t, s, fhir.HistoryFilter{Since: at(3)})
	if len(got) != 3 || got[2] != "Patient/p2/2" {
		t.Fatalf("history after writing on = %v, want the two new versions then Patient/p2/2", got)
	}
}
