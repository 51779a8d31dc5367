package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
)

// The dictionary is part of format 3: a file written with it reads only with it, so
// it must never change under an existing format.
func TestDictionaryIsPinned(t *testing.T) {
	sum := sha256.Sum256(fhirDictBytes)
	if got := hex.EncodeToString(sum[:]); got != "8e16dd8f17d3b9a7f817ee5bee17bd59d5dc3d52657ef54d6d625c2bbda17791" {
		t.Fatalf("fhirjson.s2dict changed (sha256 %s): stored values of format %s would not read; a new dictionary needs a new format", got, format)
	}
	// and a body packed by the first format-3 build still reads back (observation(3),
	// 611 bytes in 218: the decoder of a later library version must agree)
	golden, _ := hex.DecodeString("e304007b3e32002eac120d2e046f33dd4c4d90004901474120325c062822323032352d30362d30310e23191edc3c04335a61170dde003a1e0a8a2aa23aa98b51d532ee013ee7002d627deb006f19b22e11366dee0876697426888c75fc043a222e9a84a9680931728a0026c21b112f1822383438302d36325b0081830eb6581a93701e344125c029eb6623002ac936219b22660d221418047033214c22ff4d32504e003212193c043034357c005a2ab13f5e2000b1048d48007b71dc0839332c1aa15314226d6d5b486712fe2b3a10014e1d1f31190d35047d7d")
	if got, err := unpack(golden); err != nil || !bytes.Equal(got, observation(3)) {
		t.Fatalf("a body packed by an earlier build reads back as %q (%v)", got, err)
	}
}

// observation is a JSON body of the usual shape and size (about 700 bytes).
func observation(i int) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Observation","id":"o%d","meta":{"versionId":"1","lastUpdated":"2025-06-01T10:00:00.%03dZ"},`+
		`"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}]}],`+
		`"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}],"text":"Systolic blood pressure"},`+
		`"subject":{"reference":"Patient/p%d"},"effectiveDateTime":"2024-03-%02dT10:00:00Z","issued":"2024-03-%02dT10:00:00Z",`+
		`"valueQuantity":{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`, i, i%1000, i, 1+i%28, 1+i%28, 90+i%70)
}

// Bodies read back byte for byte whether they were packed (a usual resource), left
// as they are (too short, or incompressible), or empty; packing a usual resource
// pays at least twice.
func TestPackedBodiesReadBackExactly(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	noise := make([]byte, 2000)
	for i := range noise {
		noise[i] = byte(rand.IntN(256))
	}
	bodies := map[string][]byte{"usual": observation(7), "short": []byte(`{"resourceType":"Patient"}`), "empty": {},
		"incompressible": noise, "large": bytes.Repeat(observation(8), 200), "nul and invalid utf-8": append(observation(9), 0, 0xff, 0xfe)}
	wantPacked := map[string]bool{"usual": true, "large": true, "nul and invalid utf-8": true}
	for name, body := range bodies {
		if err := s.Update(ctx, func(tx fhir.Tx) error {
			return tx.Put(&fhir.Record{Type: "Observation", ID: name, Version: 1, LastUpdated: time.Now(), Method: "POST", Body: body}, nil)
		}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.db.View(func(btx *bbolt.Tx) error {
		for name, body := range bodies {
			v := btx.Bucket(bucketVer).Get(verKey("Observation", name, 1))
			if packed := v[0]&flagPacked != 0; packed != wantPacked[name] {
				t.Errorf("%s: packed %v, want %v", name, packed, wantPacked[name])
			}
			if name == "usual" && len(v)*2 > len(body) {
				t.Errorf("a usual resource of %d bytes is stored in %d", len(body), len(v))
			}
		}
		return nil
	})
	_ = s.View(ctx, func(tx fhir.Tx) error {
		for name, body := range bodies {
			r, err := tx.Current("Observation", name)
			if err != nil || !bytes.Equal(r.Body, body) || r.Body == nil {
				t.Errorf("%s: read back %d bytes (%v), want %d", name, len(r.Body), err, len(body))
			}
		}
		return nil
	})
}

// A packed entry list reads back as written and is replaced on update: the rows of
// the previous version go.
func TestPackedEntryLists(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var entries []fhir.IndexEntry
	for i := range 30 {
		entries = append(entries, fhir.IndexEntry{Param: fmt.Sprintf("p%02d", i%7), Key: fmt.Appendf(nil, "shttp://loinc.org\x00%d-%d\x00", 8000+i, i%10)})
	}
	put := func(v int64, e []fhir.IndexEntry) {
		if err := s.Update(ctx, func(tx fhir.Tx) error {
			return tx.Put(&fhir.Record{Type: "Observation", ID: "o1", Version: v, LastUpdated: time.Now(), Body: observation(1)}, e)
		}); err != nil {
			t.Fatal(err)
		}
	}
	put(1, entries)
	_ = s.db.View(func(btx *bbolt.Tx) error {
		if v := btx.Bucket(bucketRIdx).Get(resKey("Observation", "o1")); !isPackedList(v) {
			t.Errorf("an entry list of 30 similar keys is not packed")
		}
		return nil
	})
	_ = s.View(ctx, func(tx fhir.Tx) error {
		got, err := tx.Index("Observation", "o1")
		if err != nil || len(got) != len(entries) {
			t.Fatalf("Index: %d entries (%v), want %d", len(got), err, len(entries))
		}
		return nil
	})
	put(2, entries[:1])
	_ = s.View(ctx, func(tx fhir.Tx) error {
		for _, e := range entries[1:] {
			if err := tx.ScanIndex("Observation", e.Param, e.Key, append(bytes.Clone(e.Key), 0), func([]byte, string) bool {
				t.Errorf("row %s=%q of the previous version kept", e.Param, e.Key)
				return false
			}); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
}

// A corrupt packed value is an error naming corruption, not a panic or wrong bytes.
func TestCorruptPackedValue(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "Observation", ID: "o1", Version: 1, LastUpdated: time.Now(), Body: observation(1)}, nil)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(btx *bbolt.Tx) error {
		b := btx.Bucket(bucketVer)
		v := bytes.Clone(b.Get(verKey("Observation", "o1", 1)))
		v[len(v)-3] ^= 0x55
		return b.Put(verKey("Observation", "o1", 1), v[:len(v)-1])
	}); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx fhir.Tx) error { _, err := tx.Current("Observation", "o1"); return err })
	if err == nil {
		t.Fatalf("a corrupt packed body read without error")
	}
}

func BenchmarkPackedRead(b *testing.B) {
	for _, packed := range []bool{false, true} {
		b.Run(fmt.Sprint("packed=", packed), func(b *testing.B) {
			rec := &fhir.Record{Type: "Observation", ID: "o1", Version: 1, LastUpdated: time.Now(), Body: observation(1)}
			v := encodeStored(rec)
			if !packed {
				v = encodeStoredPlain(rec)
			}
			b.SetBytes(int64(len(rec.Body)))
			for b.Loop() {
				if _, err := decodeStored("Observation", "o1", 1, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPackedWrite(b *testing.B) {
	rec := &fhir.Record{Type: "Observation", ID: "o1", Version: 1, LastUpdated: time.Now(), Body: observation(1)}
	b.SetBytes(int64(len(rec.Body)))
	for b.Loop() {
		_ = encodeStored(rec)
	}
}
