package bolt

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
)

// fixtureFile writes testdata/format1.db.gz (see openFixture) to a fresh path.
func fixtureFile(t *testing.T) string { return fixtureNamed(t, "format1.db.gz") }

// fixtureNamed writes the gzipped file testdata/name to a fresh path.
func fixtureNamed(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "aitgw.db")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// indexRows lists every index row the fixture holds, through the store's interface.
func indexRows(t *testing.T, s *Store) []string {
	t.Helper()
	var rows []string
	err := s.View(context.Background(), func(tx fhir.Tx) error {
		for _, tp := range [][2]string{{"Patient", "name"}, {"Patient", "gender"}, {"Observation", "subject"}} {
			if err := tx.ScanIndex(tp[0], tp[1], nil, nil, func(k []byte, id string) bool {
				rows = append(rows, fmt.Sprintf("%s.%s=%q|%s", tp[0], tp[1], k, id))
				return true
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A format-1 file is migrated at Open: the old index bucket is gone, the format is
// recorded, the rows read back through the new layout, and a second Open has nothing
// to do.
func TestMigratesFormat1(t *testing.T) {
	for _, chunk := range []int{1, 2, migrateChunk} {
		t.Run(fmt.Sprint("chunk ", chunk), func(t *testing.T) {
			defer func(c int) { migrateChunk = c }(migrateChunk)
			migrateChunk = chunk
			testMigratesFormat1(t)
		})
	}
}

func testMigratesFormat1(t *testing.T) {
	path := fixtureFile(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`Patient.name="roe\x00x"|p1`, `Observation.subject="Patient/p1"|o1`}
	if got := indexRows(t, s); !slices.Equal(got, want) {
		t.Errorf("rows after migration = %q, want %q", got, want)
	}
	_ = s.db.View(func(btx *bbolt.Tx) error {
		if btx.Bucket(bucketIdxV1) != nil {
			t.Errorf("format-1 index bucket kept after migration")
		}
		return nil
	})
	s = reopenMigrated(t, s, path)
	defer s.Close()
	if got := indexRows(t, s); !slices.Equal(got, want) {
		t.Errorf("rows after reopening = %q, want %q", got, want)
	}
}

// A migration interrupted part way (format still 1, a partial new index with rows
// of its own) is redone from the start at the next Open.
func TestMigrationInterruptedIsRedone(t *testing.T) {
	path := fixtureFile(t)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(btx *bbolt.Tx) error {
		pn, err := btx.CreateBucket(bucketPName)
		if err != nil {
			return err
		}
		if err := pn.Put(join("Patient", "name"), []byte{0, 9}); err != nil {
			return err
		}
		pi, err := btx.CreateBucket(bucketPIdx)
		if err != nil {
			return err
		}
		if err := pi.Put(pidxKey([]byte{0, 9}, []byte("stale"), "px"), nil); err != nil {
			return err
		}
		// Patient/p1's entry list already rewritten by the interrupted run
		list, _, err := encodeEntryList(btx, "Patient", []fhir.IndexEntry{{Param: "name", Key: []byte("roe\x00x")}})
		if err != nil {
			return err
		}
		return btx.Bucket(bucketRIdx).Put(resKey("Patient", "p1"), list)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []string{`Patient.name="roe\x00x"|p1`, `Observation.subject="Patient/p1"|o1`}
	if got := indexRows(t, s); !slices.Equal(got, want) {
		t.Errorf("rows after a redone migration = %q, want %q", got, want)
	}
	// ordinals assigned later do not collide with those the interrupted run used
	ctx := context.Background()
	if err := s.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "Patient", ID: "p1", Version: 3, LastUpdated: time.Now(), Method: "PUT", Body: []byte(`{}`)},
			[]fhir.IndexEntry{{Param: "birthdate", Key: []byte("b")}, {Param: "name", Key: []byte("n")}, {Param: "x1", Key: []byte("c")}})
	}); err != nil {
		t.Fatal(err)
	}
	_ = s.View(ctx, func(tx fhir.Tx) error {
		entries, err := tx.Index("Patient", "p1")
		var got []string
		for _, e := range entries {
			got = append(got, e.Param+"="+string(e.Key))
		}
		if want := []string{"birthdate=b", "name=n", "x1=c"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Index(Patient/p1) = %q, %v; want %q", got, err, want)
		}
		return nil
	})
	if got := indexRows(t, s); !slices.Equal(got, []string{`Patient.name="n"|p1`, `Observation.subject="Patient/p1"|o1`}) {
		t.Errorf("rows after update = %q", got)
	}
}

// Ids are stored as 16 bytes when they are lowercase UUIDs, as text otherwise, and
// read back exactly either way.
func TestCompactIndexIDs(t *testing.T) {
	s := openTemp(t)
	ids := []string{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "p1", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5", "0190a1b2xc3d4-7e5f-8a9b-0c1d2e3f4a5b"}
	ctx := context.Background()
	for _, id := range ids {
		if err := s.Update(ctx, func(tx fhir.Tx) error {
			return tx.Put(&fhir.Record{Type: "Patient", ID: id, Version: 1, LastUpdated: time.Now(), Body: []byte(`{}`)},
				[]fhir.IndexEntry{{Param: "name", Key: []byte("k")}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	_ = s.View(ctx, func(tx fhir.Tx) error {
		return tx.ScanIndex("Patient", "name", nil, nil, func(_ []byte, id string) bool { got = append(got, id); return true })
	})
	slices.Sort(got)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ids read back %q, want %q", got, want)
	}
	if k := pidxKey([]byte{0, 1}, []byte("k"), ids[0]); len(k) != 2+1+2+17 {
		t.Errorf("a UUID row is %d bytes, want %d", len(k), 2+1+2+17)
	}
}

// reopenMigrated checks that migrated store s records the current format, then
// closes it and opens path again, as the next start of the gateway would.
func reopenMigrated(t *testing.T, s *Store, path string) *Store {
	t.Helper()
	_ = s.db.View(func(btx *bbolt.Tx) error {
		if f := btx.Bucket(bucketMeta).Get([]byte("format")); string(f) != format {
			t.Errorf("format %q after migration, want %q", f, format)
		}
		return nil
	})
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
