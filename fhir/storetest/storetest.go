// Package storetest is the conformance suite of fhir.Store: every backend (fhir/bolt,
// fhir/redis…) runs Run and RunDurable unchanged from its own tests, so that the
// gateway can swap stores without changing behaviour.
//
// Beyond the fhir.Store doc comments, the suite pins down what the contract leaves
// open and the gateway relies on:
//   - ScanIndex visits entries in (key, id) byte order;
//   - Index returns the entries sorted by (param, key), without duplicates, and none
//     for an unknown resource;
//   - History of one resource is in version order, newest first; across resources,
//     by LastUpdated, newest first;
//   - GetAux of a missing key returns (nil, nil);
//   - errors from fn come back from Update unchanged (errors.Is holds), a panic in fn
//     comes back as an error, and a wrong version wraps fhir.ErrConflict.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Opener returns a new, empty store for one subtest. It registers its own cleanup
// (t.Cleanup); the suite also closes the store when the subtest ends, so Close must
// tolerate being called twice.
type Opener func(t *testing.T) fhir.Store

// Run runs the whole behavioural suite against stores made by open.
func Run(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s fhir.Store)
	}{
		{"PutCurrentVersion", testPutCurrentVersion},
		{"RecordsAreCopies", testRecordsAreCopies},
		{"VersionsSequential", testVersionsSequential},
		{"InvalidRecords", testInvalidRecords},
		{"Tombstone", testTombstone},
		{"HistoryInstance", testHistoryInstance},
		{"HistoryTypeAndSystem", testHistoryTypeAndSystem},
		{"HistoryBoundsAndStop", testHistoryBoundsAndStop},
		{"ScanIndexOrderAndBounds", testScanIndexOrderAndBounds},
		{"ScanIndexIsolation", testScanIndexIsolation},
		{"IndexReplacedOnUpdate", testIndexReplacedOnUpdate},
		{"ManyIDsUnderOneKey", testManyIDsUnderOneKey},
		{"ScanTypeAndCount", testScanTypeAndCount},
		{"Aux", testAux},
		{"UpdateErrorRollsBack", testUpdateErrorRollsBack},
		{"UpdatePanicRecovered", testUpdatePanicRecovered},
		{"UpdateSeesOwnWrites", testUpdateSeesOwnWrites},
		{"IndexRewrittenInOneUpdate", testIndexRewrittenInOneUpdate},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"ViewSnapshot", testViewSnapshot},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentIncrementsNoDuplicateEffects", testConcurrentIncrements},
		{"ConcurrentFailuresIsolated", testConcurrentFailuresIsolated},
		{"CancelledContext", testCancelledContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			c.fn(t, s)
		})
	}
}

// base is the time the suite's versions are stamped from; the sub-second part checks
// that stores keep nanoseconds.
var base = time.Date(2024, 3, 14, 9, 26, 53, 589793238, time.UTC)

// at returns base shifted by n seconds.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

// rec builds a live version of typ/id.
func rec(typ, id string, version int64, when time.Time) *fhir.Record {
	method := "PUT"
	if version == 1 {
		method = "POST"
	}
	body := fmt.Sprintf(`{"resourceType":%q,"id":%q,"meta":{"versionId":"%d","lastUpdated":%q}}`,
		typ, id, version, when.Format(time.RFC3339Nano))
	return &fhir.Record{Type: typ, ID: id, Version: version, LastUpdated: when, Method: method, Body: []byte(body)}
}

// tombstone builds a deletion of typ/id.
func tombstone(typ, id string, version int64, when time.Time) *fhir.Record {
	return &fhir.Record{Type: typ, ID: id, Version: version, LastUpdated: when, Method: "DELETE", Deleted: true}
}

// entry builds an index entry.
func entry(param, key string) fhir.IndexEntry { return fhir.IndexEntry{Param: param, Key: []byte(key)} }

// put stores records, each with its index, in one Update.
func put(t *testing.T, s fhir.Store, recs ...*fhir.Record) {
	t.Helper()
	putIndexed(t, s, nil, recs...)
}

// putIndexed stores records with the same index entries in one Update.
func putIndexed(t *testing.T, s fhir.Store, index []fhir.IndexEntry, recs ...*fhir.Record) {
	t.Helper()
	err := s.Update(context.Background(), func(tx fhir.Tx) error {
		for _, r := range recs {
			if err := tx.Put(r, index); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on error.
func view(t *testing.T, s fhir.Store, fn func(tx fhir.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// current reads the current version of typ/id; nil when not found.
func current(t *testing.T, s fhir.Store, typ, id string) *fhir.Record {
	t.Helper()
	var got *fhir.Record
	view(t, s, func(tx fhir.Tx) error {
		r, err := tx.Current(typ, id)
		if errors.Is(err, fhir.ErrNotFound) {
			return nil
		}
		got = r
		return err
	})
	return got
}

// sameRecord fails unless got is the stored form of want.
func sameRecord(t *testing.T, got, want *fhir.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("got no record, want %s/%s v%d", want.Type, want.ID, want.Version)
	}
	body := want.Body
	if want.Deleted {
		body = nil
	}
	if got.Type != want.Type || got.ID != want.ID || got.Version != want.Version ||
		got.Method != want.Method || got.Deleted != want.Deleted || !got.LastUpdated.Equal(want.LastUpdated) ||
		!bytes.Equal(got.Body, body) || (want.Deleted && got.Body != nil) {
		t.Fatalf("record mismatch:\n got %s\nwant %s", describe(got), describe(want))
	}
}

// describe renders a record for failure messages (suite data only, no patient data).
func describe(r *fhir.Record) string {
	return fmt.Sprintf("%s/%s v%d %s deleted=%v at %s body=%q", r.Type, r.ID, r.Version, r.Method, r.Deleted,
		r.LastUpdated.Format(time.RFC3339Nano), r.Body)
}

// history collects the versions matching f as "type/id/version" labels.
func history(t *testing.T, s fhir.Store, f fhir.HistoryFilter) []string {
	t.Helper()
	var out []string
	view(t, s, func(tx fhir.Tx) error {
		out = out[:0] // a store may run fn again: keep only the last run
		return tx.History(f, func(r *fhir.Record) bool {
			out = append(out, fmt.Sprintf("%s/%s/%d", r.Type, r.ID, r.Version))
			return true
		})
	})
	return out
}

// scan collects ScanIndex results as "key|id" labels (key quoted so bytes show).
func scan(t *testing.T, s fhir.Store, typ, param string, from, to []byte) []string {
	t.Helper()
	var out []string
	view(t, s, func(tx fhir.Tx) error {
		out = out[:0]
		return tx.ScanIndex(typ, param, from, to, func(key []byte, id string) bool {
			out = append(out, fmt.Sprintf("%q|%s", key, id))
			return true
		})
	})
	return out
}

// equalLists fails unless got equals want element by element.
func equalLists(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d items %v, want %d items %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: item %d is %s, want %s\n got %v\nwant %v", what, i, got[i], want[i], got, want)
		}
	}
}

// count reads Count(typ).
func count(t *testing.T, s fhir.Store, typ string) int {
	t.Helper()
	var n int
	view(t, s, func(tx fhir.Tx) error {
		var err error
		n, err = tx.Count(typ)
		return err
	})
	return n
}

// fmtQ quotes bytes the way the suite labels keys.
func fmtQ(b []byte) string { return fmt.Sprintf("%q", b) }
