package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
)

// CountingStore counts the write transactions run on a store.
type CountingStore struct {
	fhir.Store
	Updates atomic.Int64
}

// Update counts, then writes.
func (c *CountingStore) Update(ctx context.Context, fn func(fhir.Tx) error) error {
	c.Updates.Add(1)
	return c.Store.Update(ctx, fn)
}

// pageIDs follows a search's next links to the end and returns the ids of the
// matches, in order.
func pageIDs(t *testing.T, s *rest.Service, first *rest.Response) []string {
	t.Helper()
	var ids []string
	resp := first
	for {
		var b fhir.Bundle
		if err := json.Unmarshal(resp.Body, &b); err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Entry {
			if e.Search != nil && e.Search.Mode == "match" {
				var r struct{ ID string }
				json.Unmarshal(e.Resource, &r)
				ids = append(ids, r.ID)
			}
		}
		next := link(b, "next")
		if next == "" {
			return ids
		}
		resp = expect(t, http.StatusOK)(s.Page(ctx, &rest.Request{Query: linkQuery(t, next)}))
	}
}

func link(b fhir.Bundle, rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func linkQuery(t *testing.T, link string) url.Values {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// Finding #15.1: every paged search stored its result set and fsynced. 300 paged
// searches followed to their last page must run no write transaction and leave the
// store file the size it was.
func TestPagedSearchesNeverWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aitgw.db")
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &CountingStore{Store: st}
	s := resttest.On(t, cs, 20)
	for i := 0; i < 7; i++ {
		expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("p")}))
	}
	before, _ := os.Stat(path)
	writes := cs.Updates.Load()
	for i := 0; i < 300; i++ {
		first := expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"_count": {"1"}}}))
		if i%50 == 0 {
			if ids := pageIDs(t, s, first); len(ids) != 7 {
				t.Fatalf("paged through %d patients, want 7", len(ids))
			}
		}
	}
	after, _ := os.Stat(path)
	if n := cs.Updates.Load() - writes; n != 0 {
		t.Errorf("300 paged searches ran %d write transactions, want 0", n)
	}
	if before.Size() != after.Size() {
		t.Errorf("store grew from %d to %d bytes under reads", before.Size(), after.Size())
	}
}

// Pages are derived again on each request: a resource created after the first page
// is left out, and a deletion on an earlier page shifts nothing (the next link
// carries the last id shown).
func TestPagesStayCorrectUnderWrites(t *testing.T) {
	s := newService(t)
	var all []string
	for i := 0; i < 6; i++ {
		r := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("w")}))
		all = append(all, r.Record.ID)
	}
	// without _sort a search answers by id; ids made in the same millisecond need not
	// follow the order of creation
	slices.Sort(all)
	first := expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"identifier": {"w"}}}))
	var b fhir.Bundle
	json.Unmarshal(first.Body, &b)
	// page 1 shows all[0], all[1]; delete all[0] and create a newcomer
	expect(t, http.StatusNoContent)(s.Delete(ctx, &rest.Request{Type: "Patient", ID: all[0]}))
	expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("w")}))
	page2 := expect(t, http.StatusOK)(s.Page(ctx, &rest.Request{Query: linkQuery(t, link(b, "next"))}))
	rest := pageIDs(t, s, page2)
	want := all[2:]
	if len(rest) != len(want) {
		t.Fatalf("pages after the first: %v, want %v", rest, want)
	}
	for i := range want {
		if rest[i] != want[i] {
			t.Fatalf("pages after the first: %v, want %v", rest, want)
		}
	}
}

// A page link of the earlier, stored kind answers 410 Gone, not a 500.
func TestStoredPageLinkIsGone(t *testing.T) {
	s := newService(t)
	_, err := s.Page(ctx, &rest.Request{Query: url.Values{"_getpages": {rest.NewID()}, "_offset": {"2"}}})
	mustFail(t, err, http.StatusGone, "not-found")
}

// A page token confers nothing: a forged one is just another search, checked again.
func TestForgedPageTokenIsRefusedOrSearched(t *testing.T) {
	s := newService(t)
	for _, tok := range []string{"!!!", "e30", "eyJ0IjoiTm9wZSJ9"} { // not base64, {}, {"t":"Nope"}
		_, err := s.Page(ctx, &rest.Request{Query: url.Values{"_getpages": {tok}, "_offset": {"0"}}})
		mustFail(t, err, http.StatusGone, "not-found")
	}
}

// Result sets stored by earlier versions are dropped at startup.
func TestDropFrozenSearchesRemovesStoredResultSets(t *testing.T) {
	s := newService(t)
	if err := s.Store.Update(ctx, func(tx fhir.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.PutAux("searchset", k, []byte(`{"matches":[]}`)); err != nil {
				return err
			}
		}
		return tx.PutAux("searchsetx", "keep", []byte("1"))
	}); err != nil {
		t.Fatal(err)
	}
	n, err := rest.DropFrozenSearches(ctx, s.Store)
	if err != nil || n != 3 {
		t.Fatalf("dropped %d, %v; want 3", n, err)
	}
	s.Store.View(ctx, func(tx fhir.Tx) error {
		if v, _ := tx.GetAux("searchset", "b"); v != nil {
			t.Errorf("searchset/b survived")
		}
		if v, _ := tx.GetAux("searchsetx", "keep"); string(v) != "1" {
			t.Errorf("another namespace was dropped")
		}
		return nil
	})
	if n, err := rest.DropFrozenSearches(ctx, s.Store); n != 0 || err != nil {
		t.Fatalf("second drop: %d, %v", n, err)
	}
}

// FuzzPageToken: any _getpages value is a page or a 4xx, never a panic or a 5xx.
func FuzzPageToken(f *testing.F) {
	s := resttest.Service(f, 2)
	for _, v := range []string{"", "e30", "eyJ0IjoiUGF0aWVudCIsInEiOiIlIiwiYSI6MX0", "!!", rest.NewID()} {
		f.Add(v, "0")
	}
	f.Fuzz(func(t *testing.T, tok, offset string) {
		resp, err := s.Page(context.Background(), &rest.Request{Query: url.Values{"_getpages": {tok}, "_offset": {offset}}})
		if err != nil {
			if fe := fhir.AsError(err); fe.Status >= 500 {
				t.Fatalf("%q: %d", tok, fe.Status)
			}
			return
		}
		if resp.Status != http.StatusOK {
			t.Fatalf("status %d", resp.Status)
		}
	})
}
