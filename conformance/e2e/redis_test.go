package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// TestTwoGatewaysShareRedis: two gateway processes on one Redis (a multi-instance
// deployment): what one writes, the other reads and finds by search.
func TestTwoGatewaysShareRedis(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379 (the project's machines run it; .ci/run relies on it): %v", err)
	}
	prefix := fmt.Sprintf("aitgw-e2e-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	dir := t.TempDir() // both share the signing keys, as instances behind one name do
	a, err := Start(ctx, binary, dir, "--redis", "redis://127.0.0.1:6379/0", "--redis-prefix", prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	b, err := Start(ctx, binary, dir, "--redis", "redis://127.0.0.1:6379/0", "--redis-prefix", prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	r, err := a.Client().Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Partage"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create on a: %v %s", err, r)
	}
	id := IDFromLocation(r.Header.Get("Location"))
	cb := b.Client()
	if r, _ := cb.Do(http.MethodGet, "Patient/"+id, nil, nil); r.Status != http.StatusOK {
		t.Errorf("read on b: %s", r)
	}
	if r, _ := cb.Do(http.MethodGet, "Patient?name=partage", nil, nil); !strings.Contains(string(r.Body), id) {
		t.Errorf("search on b: %s", r)
	}
}
