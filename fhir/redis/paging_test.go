package redis

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
)

// countingStore counts the write transactions run on a store.
type countingStore struct {
	fhir.Store
	updates atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(fhir.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

// storeMemory sums MEMORY USAGE over the store's keys, leaving out the readers'
// lease set, which only holds the reads in progress.
func storeMemory(t *testing.T, s *Store) (keys int, bytes int64) {
	t.Helper()
	ctx := context.Background()
	iter := s.rdb.Scan(ctx, 0, s.Pattern(), 500).Iterator()
	for iter.Next(ctx) {
		if iter.Val() == s.keys.readers() {
			continue
		}
		n, err := s.rdb.MemoryUsage(ctx, iter.Val()).Result()
		if err != nil && err != goredis.Nil {
			t.Fatal(err)
		}
		keys++
		bytes += n
	}
	return keys, bytes
}

// Finding #15.1 on Redis: paged searches stored their result sets in Redis memory.
// 300 paged searches must run no write and leave the store's keys as they were.
func TestPagedSearchesNeverWrite(t *testing.T) {
	ctx := context.Background()
	st := openPrefixed(t, randomPrefix())
	cs := &countingStore{Store: st}
	s := resttest.On(t, cs, 20)
	for i := 0; i < 7; i++ {
		if _, err := s.Create(ctx, &rest.Request{Type: "Patient", Body: []byte(`{"resourceType":"Patient","name":[{"family":"Paged"}]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	k0, m0 := storeMemory(t, st)
	w0 := cs.updates.Load()
	for i := 0; i < 300; i++ {
		resp, err := s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"_count": {"1"}}})
		if err != nil {
			t.Fatal(err)
		}
		var b fhir.Bundle
		json.Unmarshal(resp.Body, &b)
		for _, l := range b.Link {
			if l.Relation == "next" {
				u, _ := url.Parse(l.URL)
				if p, err := s.Page(ctx, &rest.Request{Query: u.Query()}); err != nil || p.Status != http.StatusOK {
					t.Fatalf("next page: %v", err)
				}
			}
		}
	}
	k1, m1 := storeMemory(t, st)
	if n := cs.updates.Load() - w0; n != 0 {
		t.Errorf("300 paged searches ran %d write transactions, want 0", n)
	}
	if k0 != k1 || m0 != m1 {
		t.Errorf("store went from %d keys/%d bytes to %d keys/%d bytes under reads", k0, m0, k1, m1)
	}
}

// Result sets stored by earlier versions are dropped at startup.
func TestDropAuxDropsOneNamespace(t *testing.T) {
	ctx := context.Background()
	st := openPrefixed(t, randomPrefix())
	st.Update(ctx, func(tx fhir.Tx) error {
		tx.PutAux("searchset", "a", []byte("1"))
		tx.PutAux("searchset", "b", []byte("1"))
		return tx.PutAux("other", "c", []byte("1"))
	})
	if n, err := rest.DropFrozenSearches(ctx, st); n != 2 || err != nil {
		t.Fatalf("dropped %d, %v; want 2", n, err)
	}
	st.View(ctx, func(tx fhir.Tx) error {
		if v, _ := tx.GetAux("searchset", "a"); v != nil {
			t.Error("searchset/a survived")
		}
		if v, _ := tx.GetAux("other", "c"); string(v) != "1" {
			t.Error("other namespace dropped")
		}
		return nil
	})
}
