package storetest

import (
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// historyFixture writes, one Update per second of suite time:
//
//	1 Patient/a v1, 2 Patient/b v1, 3 Observation/o v1, 4 Patient/a v2, 5 Patient/a v3 (deleted),
//	6 Patient/ab v1 (an id that has a as prefix).
func historyFixture(t *testing.T, s fhir.Store) {
	put(t, s, rec("Patient", "a", 1, at(1)))
	put(t, s, rec("Patient", "b", 1, at(2)))
	put(t, s, rec("Observation", "o", 1, at(3)))
	put(t, s, rec("Patient", "a", 2, at(4)))
	put(t, s, tombstone("Patient", "a", 3, at(5)))
	put(t, s, rec("Patient", "ab", 1, at(6)))
}

func testHistoryInstance(t *testing.T, s fhir.Store) {
	historyFixture(t, s)
	equalLists(t, "instance history", history(t, s, fhir.HistoryFilter{Type: "Patient", ID: "a"}),
		[]string{"Patient/a/3", "Patient/a/2", "Patient/a/1"})
	equalLists(t, "history of unknown id", history(t, s, fhir.HistoryFilter{Type: "Patient", ID: "zz"}), nil)
	equalLists(t, "same id, other type", history(t, s, fhir.HistoryFilter{Type: "Observation", ID: "a"}), nil)
	// The records carry everything, tombstones included.
	var got []*fhir.Record
	view(t, s, func(tx fhir.Tx) error {
		got = got[:0]
		return tx.History(fhir.HistoryFilter{Type: "Patient", ID: "a"}, func(r *fhir.Record) bool {
			got = append(got, r)
			return true
		})
	})
	sameRecord(t, got[0], tombstone("Patient", "a", 3, at(5)))
	sameRecord(t, got[1], rec("Patient", "a", 2, at(4)))
	sameRecord(t, got[2], rec("Patient", "a", 1, at(1)))
}

func testHistoryTypeAndSystem(t *testing.T, s fhir.Store) {
	historyFixture(t, s)
	equalLists(t, "type history", history(t, s, fhir.HistoryFilter{Type: "Patient"}),
		[]string{"Patient/ab/1", "Patient/a/3", "Patient/a/2", "Patient/b/1", "Patient/a/1"})
	equalLists(t, "type history, other type", history(t, s, fhir.HistoryFilter{Type: "Observation"}),
		[]string{"Observation/o/1"})
	equalLists(t, "type history, empty type", history(t, s, fhir.HistoryFilter{Type: "Encounter"}), nil)
	equalLists(t, "system history", history(t, s, fhir.HistoryFilter{}),
		[]string{"Patient/ab/1", "Patient/a/3", "Patient/a/2", "Observation/o/1", "Patient/b/1", "Patient/a/1"})

	// Versions written in one Update with one timestamp all appear.
	put(t, s, rec("Encounter", "e1", 1, at(7)), rec("Encounter", "e2", 1, at(7)))
	got := history(t, s, fhir.HistoryFilter{Since: at(7)})
	if len(got) != 2 {
		t.Fatalf("history of one Update with two versions: %v", got)
	}
}

func testHistoryBoundsAndStop(t *testing.T, s fhir.Store) {
	historyFixture(t, s)
	cases := []struct {
		name string
		f    fhir.HistoryFilter
		want []string
	}{
		{"system since", fhir.HistoryFilter{Since: at(4)},
			[]string{"Patient/ab/1", "Patient/a/3", "Patient/a/2"}},
		{"system since is inclusive to the nanosecond", fhir.HistoryFilter{Since: at(4).Add(1)},
			[]string{"Patient/ab/1", "Patient/a/3"}},
		{"system at is exclusive", fhir.HistoryFilter{At: at(3)},
			[]string{"Patient/b/1", "Patient/a/1"}},
		{"system at one nanosecond later", fhir.HistoryFilter{At: at(3).Add(1)},
			[]string{"Observation/o/1", "Patient/b/1", "Patient/a/1"}},
		{"system since and at", fhir.HistoryFilter{Since: at(2), At: at(5)},
			[]string{"Patient/a/2", "Observation/o/1", "Patient/b/1"}},
		{"type since and at", fhir.HistoryFilter{Type: "Patient", Since: at(2), At: at(5)},
			[]string{"Patient/a/2", "Patient/b/1"}},
		{"instance since", fhir.HistoryFilter{Type: "Patient", ID: "a", Since: at(4)},
			[]string{"Patient/a/3", "Patient/a/2"}},
		{"instance at", fhir.HistoryFilter{Type: "Patient", ID: "a", At: at(5)},
			[]string{"Patient/a/2", "Patient/a/1"}},
		{"empty window", fhir.HistoryFilter{Since: at(5), At: at(5)}, nil},
		{"since after everything", fhir.HistoryFilter{Since: at(100)}, nil},
		{"at before everything", fhir.HistoryFilter{At: at(0)}, nil},
	}
	for _, c := range cases {
		equalLists(t, c.name, history(t, s, c.f), c.want)
	}
	for _, f := range []fhir.HistoryFilter{{}, {Type: "Patient"}, {Type: "Patient", ID: "a"}} {
		var n int
		view(t, s, func(tx fhir.Tx) error {
			n = 0
			return tx.History(f, func(*fhir.Record) bool { n++; return n < 2 })
		})
		if n != 2 {
			t.Errorf("History(%+v) called fn %d times after it returned false at 2", f, n)
		}
	}
}
