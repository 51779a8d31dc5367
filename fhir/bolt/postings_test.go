package bolt

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// Ids of one key are grouped in blocks: UUIDs in time order (as the gateway assigns
// them) fill blocks whole, so that the rows are far fewer than the entries, and ids
// of every form (UUIDs in and out of order, upper case, text) read back exactly, text
// ids first then UUIDs, each in byte order, as rows of format 2 did.
func TestIndexBlocks(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	var ids []string
	for i := range 2000 { // UUIDv7-like: time-ordered prefix
		ids = append(ids, fmt.Sprintf("0190a1b2-%04x-7e5f-8a9b-%012x", i, rng.Uint64()>>16))
	}
	for range 100 {
		ids = append(ids, fmt.Sprintf("%08x-c3d4-4e5f-8a9b-0c1d2e3f4a5b", rng.Uint32()), fmt.Sprintf("id-%d", rng.IntN(1e6)))
	}
	ids = append(ids, "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B")
	for b := 0; b < len(ids); b += 100 {
		if err := s.Update(ctx, func(tx fhir.Tx) error {
			for _, id := range ids[b:min(b+100, len(ids))] {
				if err := tx.Put(&fhir.Record{Type: "Observation", ID: id, Version: 1, LastUpdated: time.Now(), Body: []byte(`{}`)},
					[]fhir.IndexEntry{{Param: "status", Key: []byte("final")}}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := slices.Compact(slices.SortedFunc(slices.Values(ids), func(a, b string) int {
		_, ua := uuidBytes(a)
		_, ub := uuidBytes(b)
		if ua != ub {
			if ua {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	}))
	var got []string
	_ = s.View(ctx, func(tx fhir.Tx) error {
		return tx.ScanIndex("Observation", "status", nil, nil, func(k []byte, id string) bool {
			if string(k) != "final" {
				t.Errorf("key %q", k)
			}
			got = append(got, id)
			return true
		})
	})
	if !slices.Equal(got, want) {
		t.Fatalf("ids read back (%d) differ from those written (%d)", len(got), len(want))
	}
	var rows int
	_ = s.db.View(func(btx *bbolt.Tx) error { rows = btx.Bucket(bucketPIdx).Stats().KeyN; return nil })
	if rows*15 > len(ids) {
		t.Errorf("%d rows for %d entries under one key: blocks are not filled", rows, len(ids))
	}
}

// Random adds and removes of ids of every form under a few keys leave exactly the
// entries a set would hold, in order, whatever blocks they split into or move to.
func TestIndexBlocksAgainstModel(t *testing.T) {
	s := openTemp(t)
	rng := rand.New(rand.NewPCG(5, 6))
	var pool []string
	for i := range 150 {
		pool = append(pool, fmt.Sprintf("0190a1b2-%04x-7e5f-8a9b-0c1d2e3f4a5b", i), fmt.Sprintf("t%d", rng.IntN(1e4)))
	}
	pool = append(pool, "x"+strings.Repeat("y", 300)) // a text id longer than a block
	keys := []string{"a", "a\x00", "b"}
	model := map[string]map[string]bool{}
	for _, k := range keys {
		model[k] = map[string]bool{}
	}
	ord := []byte{0, 1}
	for round := range 40 {
		if err := s.db.Update(func(btx *bbolt.Tx) error {
			idx := btx.Bucket(bucketPIdx)
			last := lastBlocks{} // as one transaction remembers them
			if round%2 == 0 {
				last = nil // and without
			}
			for range 60 {
				k, id := keys[rng.IntN(len(keys))], pool[rng.IntN(len(pool))]
				if round < 10 || rng.IntN(3) > 0 {
					model[k][id] = true
					if err := indexAdd(idx, last, pidxKeyPrefix(ord, []byte(k)), appendID(nil, id)); err != nil {
						return err
					}
				} else {
					delete(model[k], id)
					if err := indexRemove(idx, last, ord, []byte(k), id); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for _, k := range keys { // keys in byte order, then ids as idenc orders them
			ids := slices.Collect(func(yield func(string) bool) {
				for id := range model[k] {
					if !yield(id) {
						return
					}
				}
			})
			slices.SortFunc(ids, func(a, b string) int { return bytes.Compare(appendID(nil, a), appendID(nil, b)) })
			for _, id := range ids {
				want = append(want, fmt.Sprintf("%q|%s", k, id))
			}
		}
		_ = s.db.View(func(btx *bbolt.Tx) error {
			c := btx.Bucket(bucketPIdx).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				key, id, err := parsePidxMember(k[2:])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%q|%s", key, id))
				rest, err := blockIDs(v)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range rest {
					id, _ := decodeID(e)
					got = append(got, fmt.Sprintf("%q|%s", key, id))
				}
			}
			return nil
		})
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d entries read, want %d\ngot  %q\nwant %q", round, len(got), len(want), got, want)
		}
	}
}

// Within one transaction, a removal or an insertion below the last id makes the
// remembered last block stale: the appends after it must not bring back what was
// removed nor lose what was inserted.
func TestLastBlockForgottenOnChange(t *testing.T) {
	s := openTemp(t)
	ord := []byte{0, 1}
	uuid := func(i int) string { return fmt.Sprintf("0190a1b2-%04x-7e5f-8a9b-0c1d2e3f4a5b", i) }
	var got []string
	err := s.db.Update(func(btx *bbolt.Tx) error {
		idx, last := btx.Bucket(bucketPIdx), lastBlocks{}
		steps := []struct {
			add bool
			i   int
		}{{true, 1}, {true, 3}, {true, 5}, {false, 5}, {true, 7}, {true, 4}, {true, 9}, {false, 1}, {true, 11}}
		for _, st := range steps {
			var err error
			if st.add {
				err = indexAdd(idx, last, pidxKeyPrefix(ord, []byte("k")), appendID(nil, uuid(st.i)))
			} else {
				err = indexRemove(idx, last, ord, []byte("k"), uuid(st.i))
			}
			if err != nil {
				return err
			}
		}
		c := idx.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			_, id, _ := parsePidxMember(k[2:])
			got = append(got, id)
			rest, _ := blockIDs(v)
			for _, e := range rest {
				id, _ := decodeID(e)
				got = append(got, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{uuid(3), uuid(4), uuid(7), uuid(9), uuid(11)}; !slices.Equal(got, want) {
		t.Fatalf("ids %q, want %q", got, want)
	}
}

// parsePidxMember splits a row after its ordinal into key and id (tests read rows
// raw).
func parsePidxMember(m []byte) (key []byte, id string, err error) {
	key, enc, err := storecodec.ParseIndexMember(m)
	if err != nil {
		return nil, "", err
	}
	id, err = decodeID([]byte(enc))
	return key, id, err
}
