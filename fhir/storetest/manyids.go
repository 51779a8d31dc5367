package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// testManyIDsUnderOneKey checks the index where thousands of resources share a key (a
// status, a code): a backend may group their ids (fhir/bolt keeps them in blocks),
// and inserts in any order, updates that move some ids to another key, deletions and
// a scan stopped part way must all see exactly the (key, id) pairs a row per entry
// would give, in (key, id) order.
func testManyIDsUnderOneKey(t *testing.T, s fhir.Store) {
	const n = 600
	rng := rand.New(rand.NewPCG(1, 2))
	order := rng.Perm(n)
	version := map[string]int64{}
	keys := map[string]string{} // id → its key of "status" (absent: deleted)
	id := func(i int) string { return fmt.Sprintf("r%04d", i) }
	write := func(ids []string, key string) {
		t.Helper()
		err := s.Update(context.Background(), func(tx fhir.Tx) error {
			for _, id := range ids {
				r := rec("Observation", id, version[id]+1, at(1))
				var index []fhir.IndexEntry
				if key == "" {
					r = tombstone("Observation", id, version[id]+1, at(1))
				} else {
					index = []fhir.IndexEntry{entry("status", key), entry("code", "c"+id[len(id)-1:])}
				}
				if err := tx.Put(r, index); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		for _, id := range ids {
			version[id]++
			if key == "" {
				delete(keys, id)
			} else {
				keys[id] = key
			}
		}
	}
	// created in shuffled order, 50 a commit
	for b := 0; b < n; b += 50 {
		var ids []string
		for _, i := range order[b : b+50] {
			ids = append(ids, id(i))
		}
		write(ids, "final")
	}
	// a third move to another key and back, some of those and others are deleted
	var moved, deleted []string
	for i := 0; i < n; i += 3 {
		moved = append(moved, id(i))
	}
	for i := 0; i < n; i += 7 {
		deleted = append(deleted, id(i))
	}
	write(moved, "amended")
	write(moved[:len(moved)/2], "final")
	write(deleted, "")
	want := func(key string) []string {
		var out []string
		for id, k := range keys {
			if k == key {
				out = append(out, fmt.Sprintf("%q|%s", key, id))
			}
		}
		slices.Sort(out)
		return out
	}
	equalLists(t, "status=amended", scan(t, s, "Observation", "status", []byte("amended"), []byte("amended\x00")), want("amended"))
	equalLists(t, "status=final", scan(t, s, "Observation", "status", []byte("final"), []byte("final\x00")), want("final"))
	equalLists(t, "all statuses", scan(t, s, "Observation", "status", nil, nil), append(want("amended"), want("final")...))
	var got int
	view(t, s, func(tx fhir.Tx) error {
		return tx.ScanIndex("Observation", "status", nil, nil, func([]byte, string) bool { got++; return got < 77 })
	})
	if got != 77 {
		t.Fatalf("ScanIndex called fn %d times after it returned false at 77", got)
	}
	// the other parameter of the same resources is untouched by the moves
	live := 0
	for _, c := range "0123456789" {
		live += len(scan(t, s, "Observation", "code", []byte("c"+string(c)), []byte("c"+string(c)+"\x00")))
	}
	if live != len(keys) {
		t.Fatalf("code rows: %d, want one per live resource (%d)", live, len(keys))
	}
}
