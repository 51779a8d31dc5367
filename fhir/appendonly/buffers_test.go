package appendonly

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/aitgw/aitgw/fhir"
)

// A slice from the slab that grows past what it asked for moves rather than
// overwriting the next one, and a reset slab hands the same memory out again.
func TestSlabKeepsNeighboursApart(t *testing.T) {
	var s slab
	first := unsafe.SliceData(s.alloc(1)) // opens the first chunk
	a := s.alloc(4)
	b := s.alloc(4)
	b = append(b, "bbbb"...)
	a = append(a, "aaaaaaaa"...) // past its 4 bytes
	if string(b) != "bbbb" || string(a) != "aaaaaaaa" {
		t.Fatalf("a = %q, b = %q", a, b)
	}
	big := s.alloc(slabChunk) // more than a chunk share: its own memory
	if cap(big) != slabChunk || len(s.chunks) != 1 {
		t.Fatalf("big: cap %d, %d chunks", cap(big), len(s.chunks))
	}
	for range slabChunk/1000 + 1 { // fills the first chunk and opens a second
		s.alloc(1000)
	}
	if len(s.chunks) != 2 {
		t.Fatalf("%d chunks, want 2", len(s.chunks))
	}
	s.reset()
	if c := s.alloc(4); unsafe.SliceData(c) != first {
		t.Fatal("a reset slab does not reuse its first chunk")
	}
}

// Write transactions reuse the store's buffers one after the other: what each one
// committed reads back whole, events and posting lists, whatever came after it
// (bodies large and small, entries shared and not).
func TestWriteBuffersReusedAcrossCommits(t *testing.T) {
	s := openTemp(t)
	var want []*fhir.Record
	for c := range 6 {
		n := 1 + c*37
		mustUpdate(t, s, func(tx fhir.Tx) error {
			for i := range n {
				id := fmt.Sprintf("c%d-%03d", c, i)
				rec := event(id, c*1000+i)
				if i%17 == 0 { // larger than a slab share
					rec.Body = []byte(`{"resourceType":"AuditEvent","id":"` + id + `","text":"` + strings.Repeat("x", slabChunk) + `"}`)
				}
				if err := tx.Put(rec, []fhir.IndexEntry{ix("action", "R"), ix("_id", id), ix("c", fmt.Sprint(c))}); err != nil {
					return err
				}
				want = append(want, rec)
			}
			return nil
		})
	}
	mustView(t, s, func(tx fhir.Tx) error {
		for _, w := range want {
			got, err := tx.Current(typ, w.ID)
			if err != nil {
				return err
			}
			if got == nil || !bytes.Equal(got.Body, w.Body) {
				t.Fatalf("%s reads back wrong", w.ID)
			}
		}
		return nil
	})
	if got := scanAll(t, s, "action", nil, nil); len(got) != len(want) {
		t.Fatalf("action=R lists %d events, want %d", len(got), len(want))
	}
	for c := range 6 {
		if got := scanAll(t, s, "c", []byte(fmt.Sprint(c)), []byte(fmt.Sprint(c+1))); len(got) != 1+c*37 {
			t.Fatalf("commit %d: %d events indexed, want %d", c, len(got), 1+c*37)
		}
	}
	for _, w := range want {
		if got := scanAll(t, s, "_id", []byte(w.ID), []byte(w.ID+"\x00")); len(got) != 1 || !strings.HasSuffix(got[0], "|"+w.ID) {
			t.Fatalf("_id=%s: %v", w.ID, got)
		}
	}
}

// An unusually large commit leaves the store holding no more than keptRows rows and
// keptChunks chunks of its memory.
func TestWriteBuffersBoundedAfterLargeCommit(t *testing.T) {
	s := openTemp(t)
	body := `{"resourceType":"AuditEvent","text":"` + strings.Repeat("x", 30000) + `"}`
	n := keptChunks*slabChunk/len(body) + 50 // more chunks than are kept
	mustUpdate(t, s, func(tx fhir.Tx) error {
		for i := range n {
			rec := event(fmt.Sprintf("big-%05d", i), i)
			rec.Body = []byte(body)
			if err := tx.Put(rec, []fhir.IndexEntry{ix("_id", rec.ID)}); err != nil {
				return err
			}
		}
		return nil
	})
	if got := len(s.wbuf.values.chunks); got > keptChunks {
		t.Fatalf("the store keeps %d chunks after the commit, want at most %d", got, keptChunks)
	}
	if got := scanAll(t, s, "_id", nil, nil); len(got) != n {
		t.Fatalf("%d events indexed, want %d", len(got), n)
	}
}
