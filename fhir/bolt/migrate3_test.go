package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// testdata/format2.db.gz was written by the gateway of format 2 (commit 886ae7e):
// Patient/0197296b-3a80-7000-8000-000000000001 v1 (a short body, name=doe
// gender=female) and v2 (the official Patient example, name=chalmers, jim,
// gender=male), Observation/blood-pressure v1 (the official example, subject and
// code), Patient/p2 v1 (name=abe) and v2 deleted, and aux replay/k1 = "v1".

// fileContents is what a store file holds, read through the raw buckets as format 2
// wrote it (before a migration) or through the store (after): every version's record
// and every resource's entry list.
type fileContents struct {
	versions map[string]*fhir.Record
	entries  map[string][]fhir.IndexEntry
}

// rawFormat2 reads a format-2 file's versions and entry lists straight from bbolt.
func rawFormat2(t *testing.T, path string) fileContents {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fc := fileContents{versions: map[string]*fhir.Record{}, entries: map[string][]fhir.IndexEntry{}}
	err = db.View(func(btx *bbolt.Tx) error {
		if f := btx.Bucket(bucketMeta).Get([]byte("format")); string(f) != formatV2 {
			return fmt.Errorf("fixture of format %q", f)
		}
		if err := btx.Bucket(bucketVer).ForEach(func(k, v []byte) error {
			typ, id, version, err := parseVerKey(k)
			if err != nil {
				return err
			}
			r, err := storecodec.DecodeRecord(typ, id, version, v)
			fc.versions[string(k)] = r
			return err
		}); err != nil {
			return err
		}
		return btx.Bucket(bucketRIdx).ForEach(func(k, v []byte) error {
			typ, id, err := storecodec.SplitResourceKey(string(k))
			if err != nil {
				return err
			}
			entries, err := (&tx{btx: btx}).Index(typ, id)
			fc.entries[string(k)] = entries
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return fc
}

// checkContents compares what s holds with want, through the store's interface.
func checkContents(t *testing.T, s *Store, want fileContents) {
	t.Helper()
	err := s.View(context.Background(), func(ftx fhir.Tx) error {
		for k, w := range want.versions {
			got, err := ftx.Version(w.Type, w.ID, w.Version)
			if err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			if !bytes.Equal(got.Body, w.Body) || got.Deleted != w.Deleted || !got.LastUpdated.Equal(w.LastUpdated) || got.Method != w.Method {
				t.Errorf("%s/%s v%d reads back as %+v, want %+v", w.Type, w.ID, w.Version, got, w)
			}
		}
		for k, w := range want.entries {
			typ, id, _ := storecodec.SplitResourceKey(k)
			got, err := ftx.Index(typ, id)
			if err != nil || !slices.EqualFunc(got, w, func(a, b fhir.IndexEntry) bool { return a.Param == b.Param && bytes.Equal(a.Key, b.Key) }) {
				t.Errorf("Index(%s/%s) = %q (%v), want %q", typ, id, got, err, w)
			}
			for _, e := range w {
				var ids []string
				if err := ftx.ScanIndex(typ, e.Param, e.Key, append(bytes.Clone(e.Key), 0), func(_ []byte, id string) bool { ids = append(ids, id); return true }); err != nil {
					return err
				}
				if !slices.Contains(ids, id) {
					t.Errorf("index row %s.%s=%q of %s missing", typ, e.Param, e.Key, id)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// packedCount counts the packed values of the versions and entry-list buckets.
func packedCount(t *testing.T, s *Store) (records, lists int) {
	t.Helper()
	_ = s.db.View(func(btx *bbolt.Tx) error {
		_ = btx.Bucket(bucketVer).ForEach(func(_, v []byte) error {
			if v[0]&flagPacked != 0 {
				records++
			}
			return nil
		})
		return btx.Bucket(bucketRIdx).ForEach(func(_, v []byte) error {
			if isPackedList(v) {
				lists++
			}
			return nil
		})
	})
	return records, lists
}

// A format-2 file is migrated at Open: the bodies worth it are packed, every version
// and entry list reads back as format 2 stored it, and a second Open has nothing to
// do.
func TestMigratesFormat2(t *testing.T) {
	for _, chunk := range []int{1, 2, migrateChunk} {
		t.Run(fmt.Sprint("chunk ", chunk), func(t *testing.T) {
			defer func(c int) { migrateChunk = c }(migrateChunk)
			migrateChunk = chunk
			path := fixtureNamed(t, "format2.db.gz")
			want := rawFormat2(t, path)
			if len(want.versions) != 5 || len(want.entries) != 2 {
				t.Fatalf("fixture holds %d versions and %d entry lists, want 5 and 2", len(want.versions), len(want.entries))
			}
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			checkContents(t, s, want)
			// the two official examples and Patient v1 (68 bytes) are packed; p2's
			// short body and tombstone are not
			if records, _ := packedCount(t, s); records != 3 {
				t.Errorf("%d packed versions after migration, want 3", records)
			}
			s = reopenMigrated(t, s, path)
			defer s.Close()
			checkContents(t, s, want)
		})
	}
}

// A migration interrupted part way (format 3-migrating, some values packed and some
// not) is finished at the next Open, and the file reads back whole.
func TestFormat3MigrationInterruptedIsFinished(t *testing.T) {
	path := fixtureNamed(t, "format2.db.gz")
	want := rawFormat2(t, path)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// as a crash after the first commit of the versions would leave it: the format
	// marked, the first version packed
	if err := db.Update(func(btx *bbolt.Tx) error {
		if err := btx.Bucket(bucketMeta).Put([]byte("format"), []byte(formatV3Migrating)); err != nil {
			return err
		}
		b := btx.Bucket(bucketVer)
		k, v := b.Cursor().First() // Observation/blood-pressure v1
		nv, err := repackRecord(k, v)
		if err != nil || nv == nil {
			return fmt.Errorf("repack %q: %v %v", k, nv, err)
		}
		return b.Put(bytes.Clone(k), nv)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkContents(t, s, want)
	if records, _ := packedCount(t, s); records != 3 {
		t.Errorf("%d packed versions after the finished migration, want 3", records)
	}
}

// A file of format 1 goes through format 2 to format 3 at one Open.
func TestMigratesFormat1ToFormat3(t *testing.T) {
	s, err := Open(fixtureFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.db.View(func(btx *bbolt.Tx) error {
		if f := btx.Bucket(bucketMeta).Get([]byte("format")); string(f) != format {
			t.Errorf("format %q, want %q", f, format)
		}
		return nil
	})
}

// Entry lists long enough to pay are packed by the migration, and read back (and
// replace their rows on update) as format 2 wrote them.
func TestMigrationPacksEntryLists(t *testing.T) {
	path := fixtureNamed(t, "format2.db.gz")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var entries []fhir.IndexEntry
	for i := range 30 {
		entries = append(entries, fhir.IndexEntry{Param: "code", Key: fmt.Appendf(nil, "shttp://loinc.org\x00%d-%d\x00", 8000+i, i%10)})
	}
	// the long list as format 2 wrote it: compact, not packed, with its rows
	if err := db.Update(func(btx *bbolt.Tx) error {
		old, err := (&tx{btx: btx}).Index("Observation", "blood-pressure") // its rows stay
		if err != nil {
			return err
		}
		entries = append(entries, old...)
		slices.SortFunc(entries, func(a, b fhir.IndexEntry) int {
			if c := strings.Compare(a.Param, b.Param); c != 0 {
				return c
			}
			return bytes.Compare(a.Key, b.Key)
		})
		list, ords, err := encodeEntryList(btx, "Observation", entries)
		if err != nil {
			return err
		}
		for _, e := range ords {
			if err := btx.Bucket(bucketPIdx).Put(pidxKey(e.ord, e.key, "blood-pressure"), nil); err != nil {
				return err
			}
		}
		return btx.Bucket(bucketRIdx).Put(resKey("Observation", "blood-pressure"), list)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	want := rawFormat2(t, path)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkContents(t, s, want)
	if _, lists := packedCount(t, s); lists != 1 {
		t.Fatalf("%d packed entry lists after migration, want 1", lists)
	}
	ctx := context.Background()
	if err := s.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "Observation", ID: "blood-pressure", Version: 2, LastUpdated: time.Now(), Method: "PUT", Body: observation(1)},
			[]fhir.IndexEntry{{Param: "code", Key: []byte("x")}})
	}); err != nil {
		t.Fatal(err)
	}
	_ = s.View(ctx, func(tx fhir.Tx) error {
		var keys []string
		_ = tx.ScanIndex("Observation", "code", nil, nil, func(k []byte, id string) bool { keys = append(keys, string(k)); return true })
		if !slices.Equal(keys, []string{"x"}) {
			t.Errorf("code rows after update: %q, want only x", keys)
		}
		return nil
	})
}
