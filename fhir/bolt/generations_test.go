package bolt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
	"github.com/aitgw/aitgw/fhir/storetest"
)

// The whole store suite with generations of two resources: every scan of more than a
// couple of resources merges generations, and updates move entries between them.
func TestStoreSuiteSmallGenerations(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fhir.Store { return openTemp(t, WithGenerationSize(2)) })
}

// A store whose index is split into generations answers every scan as one that is
// not: same (key, id) pairs, same order, same early stop, after creates, updates
// that keep, change or drop entries, deletes, and resources that come back. No pair
// is ever in two generations, and each resource's entries are in the generation its
// entry list names.
func TestGenerationsScanLikeOneTree(t *testing.T) {
	ctx := context.Background()
	split, whole := openTemp(t, WithGenerationSize(7)), openTemp(t, WithGenerationSize(0))
	rng := rand.New(rand.NewPCG(11, 12))
	version := map[string]int64{}
	ids := []string{}
	for i := range 120 {
		if i%3 == 0 {
			ids = append(ids, fmt.Sprintf("0190a1b2-%04x-7e5f-8a9b-%012x", i, rng.Uint64()>>16))
		} else {
			ids = append(ids, fmt.Sprintf("id-%03d", rng.IntN(1000)))
		}
	}
	codes := []string{"a", "b", "c", "d\x00e", "f"}
	for round := range 40 {
		var recs []*fhir.Record
		var index [][]fhir.IndexEntry
		for range 1 + rng.IntN(12) {
			id := ids[rng.IntN(len(ids))]
			if slices.ContainsFunc(recs, func(r *fhir.Record) bool { return r.ID == id }) {
				continue
			}
			version[id]++
			r := &fhir.Record{Type: "Observation", ID: id, Version: version[id], LastUpdated: time.Now(), Body: []byte(`{}`)}
			var entries []fhir.IndexEntry
			if rng.IntN(8) == 0 {
				r.Deleted, r.Body = true, nil
			} else {
				entries = []fhir.IndexEntry{
					{Param: "code", Key: []byte(codes[rng.IntN(len(codes))])},
					{Param: "status", Key: []byte("final")},
					{Param: "value", Key: fmt.Appendf(nil, "%04d", rng.IntN(50))},
				}
				if rng.IntN(2) == 0 {
					entries = append(entries, fhir.IndexEntry{Param: "code", Key: []byte(codes[rng.IntN(len(codes))])})
				}
			}
			recs, index = append(recs, r), append(index, entries)
		}
		for _, s := range []*Store{split, whole} {
			if err := s.Update(ctx, func(tx fhir.Tx) error {
				for i, r := range recs {
					if err := tx.Put(r, index[i]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	scans := []struct{ param, from, to string }{
		{"code", "", ""}, {"code", "b", "d\x01"}, {"status", "", ""}, {"value", "0010", "0030"}, {"value", "0049", ""}, {"none", "", ""},
	}
	for _, sc := range scans {
		for _, stop := range []int{0, 1, 5, 40} {
			got, want := scanPairs(t, split, sc.param, sc.from, sc.to, stop), scanPairs(t, whole, sc.param, sc.from, sc.to, stop)
			if !slices.Equal(got, want) {
				t.Errorf("scan %q [%q, %q) stop %d: generations give %d pairs %q, one tree %d pairs %q", sc.param, sc.from, sc.to, stop, len(got), got, len(want), want)
			}
		}
	}
	for _, id := range ids {
		var got, want []fhir.IndexEntry
		_ = split.View(ctx, func(tx fhir.Tx) (err error) { got, err = tx.Index("Observation", id); return err })
		_ = whole.View(ctx, func(tx fhir.Tx) (err error) { want, err = tx.Index("Observation", id); return err })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Index(%s): generations %v, one tree %v", id, got, want)
		}
	}
	gens := checkGenerations(t, split)
	if gens < 5 {
		t.Errorf("%d index generations, want several (7 resources each)", gens)
	}
	if sp, err := split.Space(ctx); err != nil || sp.IndexGenerations != gens || sp.IndexRowN == 0 {
		t.Errorf("Space: %d generations, %d rows (%v), want %d generations", sp.IndexGenerations, sp.IndexRowN, err, gens)
	}
	if n := checkGenerations(t, whole); n != 1 {
		t.Errorf("a store with generations off has %d of them", n)
	}
}

// scanPairs lists "key id" pairs of a scan, stopping after stop of them (0: all).
func scanPairs(t *testing.T, s *Store, param, from, to string, stop int) []string {
	t.Helper()
	var out []string
	bound := func(b string) []byte {
		if b == "" {
			return nil
		}
		return []byte(b)
	}
	if err := s.View(context.Background(), func(tx fhir.Tx) error {
		return tx.ScanIndex("Observation", param, bound(from), bound(to), func(k []byte, id string) bool {
			out = append(out, fmt.Sprintf("%q %s", k, id))
			return stop == 0 || len(out) < stop
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkGenerations reads every generation's rows and fails if a (key, id) pair is in
// two of them or outside the generation its resource's entry list names; it returns
// how many generations there are.
func checkGenerations(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(btx *bbolt.Tx) error {
		seen := map[string]uint64{}
		g, err := (&tx{btx: btx}).generation()
		if err != nil {
			return err
		}
		for gen := uint64(0); gen <= g.newest; gen++ {
			b := btx.Bucket(generationBucket(gen))
			if b == nil {
				continue
			}
			n++
			err := b.ForEach(func(k, v []byte) error {
				ids, err := blockIDs(v)
				if err != nil {
					return err
				}
				key, first, err := storecodec.ParseIndexMember(k[2:])
				if err != nil {
					return err
				}
				for _, enc := range append([][]byte{[]byte(first)}, ids...) {
					pair := fmt.Sprintf("%x %q %x", k[:2], key, enc)
					if other, dup := seen[pair]; dup {
						t.Errorf("pair %q in generations %d and %d", pair, other, gen)
					}
					seen[pair] = gen
					id, err := decodeID(enc)
					if err != nil {
						return err
					}
					named, _, err := splitEntryList(btx.Bucket(bucketRIdx).Get(resKey("Observation", id)))
					if err != nil {
						return err
					}
					if named != gen {
						t.Errorf("%s has a row in generation %d, its entry list names %d", id, gen, named)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A file of format 3 (one index tree) opens as format 4 with its index as generation
// 0: its rows read back, and later writes go to new generations beside it.
func TestFormat3OpensAsGeneration0(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aitgw.db")
	ctx := context.Background()
	putObs := func(s *Store, id string) {
		t.Helper()
		if err := s.Update(ctx, func(tx fhir.Tx) error {
			return tx.Put(&fhir.Record{Type: "Observation", ID: id, Version: 1, LastUpdated: time.Now(), Body: []byte(`{}`)},
				[]fhir.IndexEntry{{Param: "code", Key: []byte("x")}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(path, WithGenerationSize(0))
	if err != nil {
		t.Fatal(err)
	}
	putObs(s, "a")
	if err := s.db.Update(func(btx *bbolt.Tx) error {
		return btx.Bucket(bucketMeta).Put([]byte("format"), []byte(formatV3))
	}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err = Open(path, WithGenerationSize(1))
	if err != nil {
		t.Fatalf("Open of a format-3 file: %v", err)
	}
	defer s.Close()
	_ = s.db.View(func(btx *bbolt.Tx) error {
		if f := btx.Bucket(bucketMeta).Get([]byte("format")); string(f) != format {
			t.Errorf("format %q after Open, want %q", f, format)
		}
		return nil
	})
	putObs(s, "b")
	putObs(s, "c")
	if got := scanPairs(t, s, "code", "", "", 0); strings.Join(got, ",") != `"x" a,"x" b,"x" c` {
		t.Errorf("scan after migration: %q", got)
	}
	if n := checkGenerations(t, s); n != 3 {
		t.Errorf("%d generations, want 3 (the format-3 index, then one per resource)", n)
	}
}
