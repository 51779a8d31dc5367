package bolt

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// TestIndexKeyOrder checks on random keys rich in 0x00, 0x01 and 0xFF that escaped
// rows sort as the raw keys do and decode back to key and id.
func TestIndexKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, 2, 'a', 0xFE, 0xFF}
	randKey := func() []byte {
		k := make([]byte, rng.IntN(5))
		for i := range k {
			k[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return k
	}
	for i := 0; i < 5000; i++ {
		a, b := randKey(), randKey()
		ra, rb := idxKey("Patient", "name", a, "id1"), idxKey("Patient", "name", b, "id1")
		want, got := bytes.Compare(a, b), bytes.Compare(ra, rb)
		if want != got {
			t.Fatalf("keys %q and %q compare %d but their rows compare %d", a, b, want, got)
		}
		key, id, err := parseIdxTail(ra[len(idxPrefix("Patient", "name")):])
		if err != nil || !bytes.Equal(key, a) || id != "id1" {
			t.Fatalf("row of %q decodes to %q, %q, %v", a, key, id, err)
		}
		// The Seek position of a bound is below every row whose key is at or above it.
		if bytes.Compare(a, b) >= 0 && bytes.Compare(ra, escKey(idxPrefix("Patient", "name"), b)) < 0 {
			t.Fatalf("row of %q sorts before the bound %q", a, b)
		}
	}
}

func TestRecordCodec(t *testing.T) {
	cases := []*fhir.Record{
		{Type: "Patient", ID: "p", Version: 3, LastUpdated: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), Method: "PUT", Body: []byte(`{"a":1}`)},
		{Type: "Patient", ID: "p", Version: 4, LastUpdated: time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), Method: "DELETE", Deleted: true},
		{Type: "Patient", ID: "p", Version: 1, Method: "", Body: []byte{}},
	}
	for _, want := range cases {
		got, err := decodeRecord(want.Type, want.ID, want.Version, encodeRecord(want))
		if err != nil {
			t.Fatal(err)
		}
		if got.Method != want.Method || got.Deleted != want.Deleted || !got.LastUpdated.Equal(want.LastUpdated) ||
			!bytes.Equal(got.Body, want.Body) || (want.Deleted && got.Body != nil) || (!want.Deleted && got.Body == nil) {
			t.Fatalf("round trip of %+v gave %+v", want, got)
		}
	}
	if _, err := decodeRecord("Patient", "p", 1, []byte{0, 0x80}); err == nil {
		t.Fatalf("truncated record decoded")
	}
	entries := []fhir.IndexEntry{{Param: "name", Key: []byte{0, 1, 0xFF}}, {Param: "x", Key: []byte{}}}
	got, err := decodeEntries(encodeEntries(entries))
	if err != nil || len(got) != 2 || !bytes.Equal(got[0].Key, entries[0].Key) || got[1].Param != "x" {
		t.Fatalf("entries round trip: %+v, %v", got, err)
	}
}
