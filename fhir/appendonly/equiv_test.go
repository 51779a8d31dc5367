package appendonly

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
)

// TestEquivalentToBolt puts the same records and entries into fhir/bolt and into this
// store, over several commits, and checks that every read the gateway searches with
// gives the same answer.
func TestEquivalentToBolt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	alphabet := []byte{0, 1, 'a', 'b', 0xFE, 0xFF}
	randKey := func() []byte {
		k := make([]byte, rng.IntN(4))
		for i := range k {
			k[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return k
	}
	params := []string{"a", "ab", "date", "type"}

	ref, err := bolt.Open(filepath.Join(t.TempDir(), "bolt.db"), bolt.WithoutBatching())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ref.Close() })
	s := openTemp(t)

	var ids []string
	for commit := range 8 {
		var recs []*fhir.Record
		var entries [][]fhir.IndexEntry
		for range 1 + rng.IntN(40) {
			id := fmt.Sprintf("%08x", rng.Uint32()) // random order, like clients' ids
			if slices.Contains(ids, id) {
				continue
			}
			ids = append(ids, id)
			recs = append(recs, event(id, commit))
			var ix []fhir.IndexEntry
			for range rng.IntN(8) { // duplicates on purpose
				ix = append(ix, fhir.IndexEntry{Param: params[rng.IntN(len(params))], Key: randKey()})
			}
			entries = append(entries, ix)
		}
		put := func(tx fhir.Tx) error {
			for i, r := range recs {
				if err := tx.Put(r, entries[i]); err != nil {
					return err
				}
			}
			return nil
		}
		mustUpdate(t, ref, put)
		mustUpdate(t, s, put)
	}

	list := func(st fhir.Store, param string, from, to []byte) []string {
		var out []string
		var last []byte
		mustView(t, st, func(tx fhir.Tx) error {
			out, last = out[:0], nil
			return tx.ScanIndex(typ, param, from, to, func(k []byte, id string) bool {
				if last != nil && string(k) < string(last) {
					t.Fatalf("ScanIndex(%s) out of key order: %q after %q", param, k, last)
				}
				last = append(last[:0], k...)
				out = append(out, fmt.Sprintf("%q|%s", k, id))
				return true
			})
		})
		slices.Sort(out)
		return out
	}
	ranges := 0
	for _, param := range append(params, "zz", "") {
		for range 60 {
			var from, to []byte
			if rng.IntN(3) > 0 {
				from = randKey()
			}
			if rng.IntN(3) > 0 {
				to = randKey()
			}
			want, got := list(ref, param, from, to), list(s, param, from, to)
			if !slices.Equal(got, want) {
				t.Fatalf("ScanIndex(%q, %q, %q):\n got %v\nwant %v", param, from, to, got, want)
			}
			if len(want) > 0 {
				ranges++
			}
		}
	}
	if ranges < 50 {
		t.Fatalf("only %d ranges had entries: the test compares too little", ranges)
	}

	mustView(t, ref, func(rtx fhir.Tx) error {
		return s.View(context.Background(), func(tx fhir.Tx) error {
			for _, id := range append(ids, "missing") {
				want, werr := rtx.Index(typ, id)
				got, err := tx.Index(typ, id)
				if werr != nil || err != nil || fmt.Sprint(got) != fmt.Sprint(want) || (got == nil) != (want == nil) {
					t.Fatalf("Index(%s) = %v, %v; bolt %v, %v", id, got, err, want, werr)
				}
				wr, werr := rtx.Current(typ, id)
				gr, err := tx.Current(typ, id)
				if (werr == nil) != (err == nil) || (err == nil && fmt.Sprint(*gr) != fmt.Sprint(*wr)) {
					t.Fatalf("Current(%s) = %v, %v; bolt %v, %v", id, gr, err, wr, werr)
				}
			}
			wn, _ := rtx.Count(typ)
			gn, _ := tx.Count(typ)
			if wn != gn || gn != len(ids) {
				t.Fatalf("Count = %d, bolt %d, put %d", gn, wn, len(ids))
			}
			scanType := func(tx fhir.Tx) []string {
				var out []string
				_ = tx.ScanType(typ, func(r *fhir.Record) bool { out = append(out, fmt.Sprint(*r)); return true })
				return out
			}
			if got, want := scanType(tx), scanType(rtx); !slices.Equal(got, want) {
				t.Fatalf("ScanType differs:\n got %v\nwant %v", got, want)
			}
			return nil
		})
	})
}
