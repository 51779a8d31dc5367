package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// keyCounter is a slow rest-hook receiver that counts the event notifications it
// accepts by idempotency key.
type keyCounter struct {
	srv  *httptest.Server
	mu   sync.Mutex
	keys map[string]int
}

func newKeyCounter(t *testing.T, delay time.Duration) *keyCounter {
	k := &keyCounter{keys: map[string]int{}}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if typ, _ := notificationOf(body); typ == "event-notification" {
			time.Sleep(delay)
			k.mu.Lock()
			k.keys[req.Header.Get("Idempotency-Key")]++
			k.mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *keyCounter) snapshot() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]int{}
	for key, n := range k.keys {
		out[key] = n
	}
	return out
}

// TestOneDeliveryAcrossGateways: two gateways on one Redis share the outbox; each
// event is delivered by one of them, once. The gateway that holds deliveries is
// killed with SIGKILL mid-way: the other takes them over once the lease has expired,
// and an event arrives at most once more.
func TestOneDeliveryAcrossGateways(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379 (the project's machines run it; .ci/run relies on it): %v", err)
	}
	prefix := fmt.Sprintf("aitgw-e2e-lease-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	rcv := newKeyCounter(t, 150*time.Millisecond)
	dir := t.TempDir()
	start := func(name string) *Gateway {
		g, err := Start(ctx, binary, dir, "--redis", "redis://127.0.0.1:6379/0", "--redis-prefix", prefix,
			"--notify-lease", "3s", "--instance", name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("gateway %s log tail:\n%s", name, g.Logs())
			}
		})
		return g
	}
	a, b := start("a"), start("b")
	defer a.Stop()
	defer b.Stop()
	c := a.Client()
	sub := fmt.Sprintf(`{"resourceType":"Subscription","status":"requested","reason":"milestones",
	 "criteria":"https://aitgw.org/fhir/SubscriptionTopic/milestone",
	 "channel":{"type":"rest-hook","endpoint":%q,"payload":"application/fhir+json",
	  "_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"id-only"}]}}}`, rcv.srv.URL)
	if r, err := c.Do(http.MethodPost, "Subscription", []byte(sub), nil); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("Subscription: %v %s", err, r)
	}
	// referrals raise two milestones each (referral received, care planned), on both gateways
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	fixture, err := os.ReadFile(filepath.Join(root, "mapping", "testdata", "referral-frcore.json"))
	if err != nil {
		t.Fatal(err)
	}
	refer := func(g *Gateway, i int) {
		t.Helper()
		body := strings.ReplaceAll(string(fixture), "REF-2026-0001", fmt.Sprintf("REF-2026-L%03d", i))
		if r, err := g.Client().Do(http.MethodPost, "$ait-referral", []byte(body), nil); err != nil || r.Status != http.StatusOK {
			t.Fatalf("$ait-referral %d: %v %s", i, err, r)
		}
	}
	count := func(g *Gateway) int {
		t.Helper()
		r, err := g.Client().Do(http.MethodGet, "Communication?_summary=count", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n struct{ Total int }
		_ = json.Unmarshal(r.Body, &n)
		return n.Total
	}

	// 1. both gateways running, referrals posted to both: every event once
	for i := 0; i < 6; i++ {
		g := a
		if i%2 == 1 {
			g = b
		}
		refer(g, i)
	}
	events := count(b)
	if events < 6 {
		t.Fatalf("%d notifications for 6 referrals", events)
	}
	waitUntil(t, "every event", 60*time.Second, func() bool { return len(rcv.snapshot()) >= events })
	time.Sleep(500 * time.Millisecond)
	first := rcv.snapshot()
	for key, n := range first {
		if n != 1 {
			t.Errorf("with two gateways running, %s arrived %d times", key, n)
		}
	}
	if len(first) != events {
		t.Errorf("%d distinct events for %d notifications", len(first), events)
	}

	// 2. a alone holds the deliveries of new referrals; b starts; a is killed mid-way:
	// b takes them over after the lease, each event arriving at most once more
	b.Stop()
	for i := 6; i < 10; i++ {
		refer(a, i)
	}
	more := count(a) - events
	waitUntil(t, "a's first new event", 30*time.Second, func() bool { return len(rcv.snapshot()) > events })
	b2 := start("b2")
	defer b2.Stop()
	a.Kill()
	if atKill := len(rcv.snapshot()); atKill >= events+more {
		t.Fatalf("a delivered all %d events before it was killed: nothing was taken over", more)
	}
	waitUntil(t, "every event after the kill", 60*time.Second, func() bool { return len(rcv.snapshot()) >= events+more })
	time.Sleep(4 * time.Second) // past a lease: a duplicate, if any, arrives now
	got := rcv.snapshot()
	for key, n := range got {
		if key == "" || n > 2 || (first[key] > 0 && n != 1) {
			t.Errorf("event %q delivered %d times", key, n)
		}
	}
	if len(got) != events+more {
		t.Errorf("%d distinct events delivered for %d notifications", len(got), events+more)
	}
	t.Logf("%d + %d events; counts %v", events, more, got)
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
