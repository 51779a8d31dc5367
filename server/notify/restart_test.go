package notify

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// A worker that dies after sending but before recording (its commits fail, as if the
// process were killed), then a new worker on the same bolt file after a reopen: every
// notification is delivered, in order, and the only duplicates are retries of an
// event with its own idempotency key.
func TestRestartOnSameStoreDeliversEverything(t *testing.T) {
	h := startHook(t, 0)
	e := newEnv(t)
	e.pathway()
	e.put(subscriptionJSON("gpfeed", h.srv.URL, PayloadIDOnly, "Communication?recipient=Practitioner/gp", 0))
	const n = 20
	for i := 0; i < n; i++ {
		if err := e.milestone(refill(i)); err != nil {
			t.Fatal(err)
		}
	}

	// First worker: its commits succeed three times (handshake and a first round or
	// two), then the "process" is gone: nothing more it sends gets recorded.
	var commits atomic.Int32
	w1 := e.worker()
	w1.Mailer = acceptMail{}
	w1.LaneBatch = 4
	inner := w1.Write
	w1.Write = UpdaterFunc(func(ctx context.Context, fn func(Writer) error) error {
		if commits.Add(1) > 3 {
			return errors.New("killed")
		}
		return inner.Update(ctx, fn)
	})
	w1.Logger = quietLogger()
	ctx1, cancel1 := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w1.Run(ctx1); close(done) }()
	waitFor(t, "the first worker to send", 10*time.Second, func() bool { _, acc := h.snapshot(); return len(acc) > 0 })
	time.Sleep(50 * time.Millisecond)
	cancel1()
	<-done
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	pending := 0
	e.open()
	_ = e.store.View(context.Background(), func(tx fhir.Tx) error {
		return scanLog(tx, queuePrefix, 0, func(int64, []byte) bool { pending++; return true })
	})
	if pending == 0 {
		t.Fatal("nothing was pending at the restart: the test proves nothing")
	}

	w2 := e.worker()
	w2.Mailer = acceptMail{}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go w2.Run(ctx2)
	waitFor(t, "every Communication completed", 10*time.Second, func() bool {
		return len(e.match("Communication", "recipient=Practitioner/gp&status=completed")) == n
	})
	_, acc := h.snapshot()
	keys := map[int64]string{}
	var firsts []int64
	for _, c := range acc {
		if k, seen := keys[c.event]; seen {
			if k != c.key {
				t.Errorf("event %d delivered with keys %q and %q", c.event, k, c.key)
			}
			continue
		}
		keys[c.event] = c.key
		firsts = append(firsts, c.event)
	}
	for i, ev := range firsts {
		if ev != int64(i+1) {
			t.Fatalf("events first delivered in order %v", firsts)
		}
	}
	if len(firsts) != n {
		t.Errorf("%d distinct events delivered, want %d", len(firsts), n)
	}
	if len(acc) == n {
		t.Log("no duplicate: the killed worker had recorded everything it sent")
	}
	t.Logf("%d pending at restart, %d deliveries for %d events", pending, len(acc), n)
}

// A heartbeat goes to an active subscription that asked for one and was sent
// nothing for that long.
func TestHeartbeat(t *testing.T) {
	h := startHook(t, 0)
	e := newEnv(t)
	e.pathway()
	e.put(subscriptionJSON("beat", h.srv.URL, PayloadEmpty, "Communication?recipient=Practitioner/gp", 1))
	w := e.worker()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitFor(t, "a heartbeat", 5*time.Second, func() bool {
		calls, _ := h.snapshot()
		for _, c := range calls {
			if c.typ == TypeHeartbeat {
				return true
			}
		}
		return false
	})
}

// $status and $events answer from the subscription's event log.
func TestStatusAndEventsOperations(t *testing.T) {
	h := startHook(t, 0)
	e := newEnv(t)
	e.pathway()
	e.put(subscriptionJSON("gpfeed", h.srv.URL, PayloadIDOnly, "Communication?recipient=Practitioner/gp", 0))
	for i := 0; i < 3; i++ {
		if err := e.milestone(refill(i)); err != nil {
			t.Fatal(err)
		}
	}
	var status, events []byte
	err := e.store.View(context.Background(), func(tx fhir.Tx) error {
		var err error
		if status, err = StatusOperation(tx, "http://gw.test/fhir/", "gpfeed"); err != nil {
			return err
		}
		events, err = EventsOperation(tx, "http://gw.test/fhir/", "gpfeed", 2, 3, PayloadFullResource)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var sb map[string]any
	_ = json.Unmarshal(status, &sb)
	entry := sb["entry"].([]any)[0].(map[string]any)
	typ, since, _ := statusOf(map[string]any{"entry": []any{entry}})
	if sb["type"] != "searchset" || typ != TypeQueryStatus || since != "3" {
		t.Errorf("$status: bundle %v, type %q, since %q", sb["type"], typ, since)
	}
	var eb map[string]any
	_ = json.Unmarshal(events, &eb)
	typ, _, _ = statusOf(eb)
	entries := eb["entry"].([]any)
	if eb["type"] != "history" || typ != TypeQueryEvent || len(entries) != 3 {
		t.Fatalf("$events: type %v/%q with %d entries", eb["type"], typ, len(entries))
	}
	params := entries[0].(map[string]any)["resource"].(map[string]any)["parameter"].([]any)
	var nums []string
	for _, p := range params {
		p := p.(map[string]any)
		if p["name"] == "notification-event" {
			nums = append(nums, p["part"].([]any)[0].(map[string]any)["valueString"].(string))
		}
	}
	if len(nums) != 2 || nums[0] != "2" || nums[1] != "3" {
		t.Errorf("$events 2..3 returned events %v", nums)
	}
	if r := entries[1].(map[string]any)["resource"].(map[string]any); r["resourceType"] != "Communication" {
		t.Errorf("full-resource $events entry %v", r)
	}
	err = e.store.View(context.Background(), func(tx fhir.Tx) error {
		_, err := EventsOperation(tx, "", "gpfeed", 0, 0, "everything")
		return err
	})
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != 400 {
		t.Errorf("bad content accepted: %v", err)
	}
}
