package search

import (
	"bytes"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// TestStampEntriesMatchIndex: the direct stamp entries are exactly what evaluating
// the _id and _lastUpdated parameters gives, over many ids and instants.
func TestStampEntriesMatchIndex(t *testing.T) {
	r := newTestRegistry(t)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("%08x-%04x-7%03x-a%03x-%012x", rng.Uint32(), rng.Intn(1<<16), rng.Intn(1<<12), rng.Intn(1<<12), rng.Int63n(1<<48))
		if i%7 == 0 {
			id = fmt.Sprintf("client-id.%d", i)
		}
		at := time.Unix(0, rng.Int63n(4e18)).UTC()
		if i%5 == 0 {
			at = at.Truncate(time.Second)
		}
		stamped, err := fhir.Stamp([]byte(`{"resourceType":"Observation","status":"final"}`), id, 1, at)
		if err != nil {
			t.Fatal(err)
		}
		want, err := r.IndexOnly("Observation", stamped, map[string]bool{"_id": true, "_lastUpdated": true})
		if err != nil {
			t.Fatal(err)
		}
		got := r.StampEntries(id, at.Format(time.RFC3339Nano))
		if !sameEntries(got, want) {
			t.Fatalf("%s %s:\n got %q\nwant %q", id, at.Format(time.RFC3339Nano), got, want)
		}
	}
}

func sameEntries(a, b []fhir.IndexEntry) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(es []fhir.IndexEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Param+"\x00"+string(e.Key))
		}
		sort.Strings(out)
		return out
	}
	x, y := norm(a), norm(b)
	for i := range x {
		if !bytes.Equal([]byte(x[i]), []byte(y[i])) {
			return false
		}
	}
	return true
}
