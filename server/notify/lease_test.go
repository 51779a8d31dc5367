package notify

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// countingMailer counts the mails by idempotency key, slowly enough that two
// workers would overlap.
type countingMailer struct {
	mu   sync.Mutex
	keys map[string]int
	at   map[string]time.Time
}

func (c *countingMailer) Send(_ context.Context, m *Mail) error {
	time.Sleep(2 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[m.Key]++
	if _, ok := c.at[m.Key]; !ok {
		c.at[m.Key] = time.Now()
	}
	return nil
}

func (c *countingMailer) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.keys {
		out[k] = v
	}
	return out
}

// Two workers on one store: every delivery is claimed by one of them and sent once.
func TestTwoWorkersSendEachDeliveryOnce(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	const n = 20
	for i := 0; i < n; i++ {
		if err := e.milestone(refill(i)); err != nil {
			t.Fatal(err)
		}
	}
	mails := &countingMailer{keys: map[string]int{}, at: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, name := range []string{"a", "b"} {
		w := e.worker()
		w.Instance, w.Mailer, w.Logger, w.Lease = name, mails, quietLogger(), DefaultLease
		go w.Run(ctx)
	}
	waitFor(t, "every mail", 10*time.Second, func() bool { return len(mails.snapshot()) == n })
	time.Sleep(100 * time.Millisecond) // let a duplicate, if any, arrive
	for k, c := range mails.snapshot() {
		if c != 1 {
			t.Errorf("%s sent %d times", k, c)
		}
	}
}

// A delivery claimed by an instance that died is sent by another once the lease
// has expired, not before.
func TestDeadInstanceLeaseIsTakenOver(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	if err := e.milestone(refill(0)); err != nil {
		t.Fatal(err)
	}
	ds := queued(t, e)
	if len(ds) != 1 {
		t.Fatalf("queued %v", ds)
	}
	until := time.Now().Add(400 * time.Millisecond)
	err := e.store.Update(context.Background(), func(tx fhir.Tx) error {
		return putJSON(tx, leaseKey(ds[0].Seq), lease{Owner: "dead", Until: until})
	})
	if err != nil {
		t.Fatal(err)
	}
	mails := &countingMailer{keys: map[string]int{}, at: map[string]time.Time{}}
	w := e.worker()
	w.Instance, w.Mailer, w.Logger, w.Lease = "survivor", mails, quietLogger(), DefaultLease
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitFor(t, "the taken-over mail", 10*time.Second, func() bool { return len(mails.snapshot()) == 1 })
	if at := mails.at[ds[0].Key]; at.Before(until) {
		t.Errorf("sent at %s, before the dead instance's lease ended at %s", at.Format(time.StampMilli), until.Format(time.StampMilli))
	}
	if c := mails.snapshot()[ds[0].Key]; c != 1 {
		t.Errorf("sent %d times", c)
	}
}
