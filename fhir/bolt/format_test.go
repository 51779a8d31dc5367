package bolt

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// openFixture opens a copy of testdata/format1.db.gz: a file written by the gateway
// before the encodings moved to fhir/storecodec. It holds Patient/p1 (v1 POST indexed
// name=doe gender=female, v2 PUT name="roe\x00x"), Patient/p2 (v1 POST name=abe, v2
// DELETE), Observation/o1 (v1 POST subject=Patient/p1), each a second apart from
// 2024-03-14T09:26:53.589793238Z, and aux replay/k1 = "v1".
func openFixture(t *testing.T) *Store {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "format1.db.gz"))
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
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a format-1 file: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestReadsExistingFile checks that a file written by an earlier build reads back
// exactly: records, history order, index rows, counts and aux values.
func TestReadsExistingFile(t *testing.T) {
	s := openFixture(t)
	t0 := time.Date(2024, 3, 14, 9, 26, 53, 589793238, time.UTC)
	ctx := context.Background()
	err := s.View(ctx, func(tx fhir.Tx) error {
		p1, err := tx.Current("Patient", "p1")
		if err != nil {
			return err
		}
		if p1.Version != 2 || p1.Method != "PUT" || !p1.LastUpdated.Equal(t0.Add(time.Second)) ||
			string(p1.Body) != `{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"active":true}` {
			t.Errorf("Patient/p1 current = %+v", p1)
		}
		v1, err := tx.Version("Patient", "p1", 1)
		if err != nil || v1.Method != "POST" || !v1.LastUpdated.Equal(t0) || !bytes.Contains(v1.Body, []byte(`"versionId":"1"`)) {
			t.Errorf("Patient/p1 v1 = %+v, %v", v1, err)
		}
		p2, err := tx.Current("Patient", "p2")
		if err != nil || !p2.Deleted || p2.Body != nil || p2.Version != 2 || p2.Method != "DELETE" {
			t.Errorf("Patient/p2 current = %+v, %v; want the tombstone", p2, err)
		}
		for typ, want := range map[string]int{"Patient": 1, "Observation": 1} {
			if n, err := tx.Count(typ); err != nil || n != want {
				t.Errorf("Count(%s) = %d, %v; want %d", typ, n, err, want)
			}
		}
		var live []string
		if err := tx.ScanType("Patient", func(r *fhir.Record) bool { live = append(live, r.ID); return true }); err != nil {
			return err
		}
		if !slices.Equal(live, []string{"p1"}) {
			t.Errorf("ScanType(Patient) = %v", live)
		}
		for _, c := range []struct {
			f    fhir.HistoryFilter
			want []string
		}{
			{fhir.HistoryFilter{}, []string{"Observation/o1/1", "Patient/p2/2", "Patient/p2/1", "Patient/p1/2", "Patient/p1/1"}},
			{fhir.HistoryFilter{Type: "Patient"}, []string{"Patient/p2/2", "Patient/p2/1", "Patient/p1/2", "Patient/p1/1"}},
			{fhir.HistoryFilter{Type: "Patient", ID: "p1"}, []string{"Patient/p1/2", "Patient/p1/1"}},
			{fhir.HistoryFilter{Since: t0.Add(time.Second), At: t0.Add(3 * time.Second)}, []string{"Patient/p2/1", "Patient/p1/2"}},
		} {
			var got []string
			err := tx.History(c.f, func(r *fhir.Record) bool {
				got = append(got, fmt.Sprintf("%s/%s/%d", r.Type, r.ID, r.Version))
				return true
			})
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("History(%+v) = %v, %v; want %v", c.f, got, err, c.want)
			}
		}
		var rows []string
		for _, param := range []string{"name", "gender"} {
			err := tx.ScanIndex("Patient", param, nil, nil, func(key []byte, id string) bool {
				rows = append(rows, fmt.Sprintf("%s=%q|%s", param, key, id))
				return true
			})
			if err != nil {
				return err
			}
		}
		if err := tx.ScanIndex("Observation", "subject", []byte("Patient/"), nil, func(key []byte, id string) bool {
			rows = append(rows, fmt.Sprintf("subject=%q|%s", key, id))
			return true
		}); err != nil {
			return err
		}
		if want := []string{`name="roe\x00x"|p1`, `subject="Patient/p1"|o1`}; !slices.Equal(rows, want) {
			t.Errorf("index rows = %v, want %v", rows, want)
		}
		idx, err := tx.Index("Patient", "p1")
		if err != nil || len(idx) != 1 || idx[0].Param != "name" || string(idx[0].Key) != "roe\x00x" {
			t.Errorf("Index(Patient/p1) = %+v, %v", idx, err)
		}
		if v, err := tx.GetAux("replay", "k1"); err != nil || string(v) != "v1" {
			t.Errorf("GetAux = %q, %v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The file stays writable: the next version follows the stored one and replaces
	// the stored index rows.
	err = s.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "Patient", ID: "p1", Version: 3, LastUpdated: t0.Add(10 * time.Second), Method: "PUT", Body: []byte(`{}`)},
			[]fhir.IndexEntry{{Param: "name", Key: []byte("zed")}})
	})
	if err != nil {
		t.Fatalf("Put after reopening: %v", err)
	}
	err = s.View(ctx, func(tx fhir.Tx) error {
		var rows []string
		err := tx.ScanIndex("Patient", "name", nil, nil, func(key []byte, id string) bool {
			rows = append(rows, fmt.Sprintf("%q|%s", key, id))
			return true
		})
		if want := []string{`"zed"|p1`}; err != nil || !slices.Equal(rows, want) {
			t.Errorf("name rows after update = %v, %v; want %v", rows, err, want)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerKeyRoundTrip(t *testing.T) {
	typ, id, v, err := parseVerKey(verKey("Patient", "p1", 258))
	if err != nil || typ != "Patient" || id != "p1" || v != 258 {
		t.Fatalf("parseVerKey = %q %q %d %v", typ, id, v, err)
	}
	if _, _, _, err := parseVerKey([]byte("Patient\x00\x00\x00\x00\x00\x00\x00\x00\x01")); err == nil {
		t.Fatalf("a ver key without id parsed")
	}
}
