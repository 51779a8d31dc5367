package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a rest-hook endpoint that refuses event notifications until told to
// accept them, and records every call.
type receiver struct {
	srv    *httptest.Server
	accept atomic.Bool
	mu     sync.Mutex
	failed int
	// got maps each accepted event number to the idempotency keys it came with.
	got map[int64][]string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: map[int64][]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		typ, events := notificationOf(body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if typ == "event-notification" && !r.accept.Load() {
			r.failed++
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		for _, n := range events {
			r.got[n] = append(r.got[n], req.Header.Get("Idempotency-Key"))
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// notificationOf reads a notification Bundle's type and event numbers.
func notificationOf(body []byte) (string, []int64) {
	var b struct {
		Entry []struct {
			Resource struct {
				Parameter []struct {
					Name      string `json:"name"`
					ValueCode string `json:"valueCode"`
					Part      []struct {
						Name        string `json:"name"`
						ValueString string `json:"valueString"`
					} `json:"part"`
				} `json:"parameter"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil || len(b.Entry) == 0 {
		return "", nil
	}
	typ := ""
	var events []int64
	for _, p := range b.Entry[0].Resource.Parameter {
		switch p.Name {
		case "type":
			typ = p.ValueCode
		case "notification-event":
			for _, part := range p.Part {
				if part.Name == "event-number" {
					n, _ := strconv.ParseInt(part.ValueString, 10, 64)
					events = append(events, n)
				}
			}
		}
	}
	return typ, events
}

func (r *receiver) snapshot() (failed int, got map[int64][]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got = map[int64][]string{}
	for k, v := range r.got {
		got[k] = append([]string(nil), v...)
	}
	return r.failed, got
}

// TestNotificationsSurviveSIGKILL: milestones are raised while the subscriber's
// endpoint is down; the gateway is killed with the deliveries pending, restarted on
// the same data, and every notification then arrives, each event number with one
// idempotency key (duplicates only as at-least-once retries of the same key).
func TestNotificationsSurviveSIGKILL(t *testing.T) {
	rcv := newReceiver(t)
	g := startGateway(t)
	c := g.Client()
	sub := fmt.Sprintf(`{"resourceType":"Subscription","status":"requested","reason":"milestones",
	 "criteria":"https://aitgw.org/fhir/SubscriptionTopic/milestone",
	 "channel":{"type":"rest-hook","endpoint":%q,"payload":"application/fhir+json",
	  "_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"id-only"}]}}}`, rcv.srv.URL)
	if r, err := c.Do(http.MethodPost, "Subscription", []byte(sub), nil); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("Subscription: %v %s", err, r)
	}
	postReferral(t, c) // raises two milestones: referral received, care planned
	var comms int
	if r, _ := c.Do(http.MethodGet, "Communication?_summary=count", nil, nil); r != nil {
		var b struct{ Total int }
		json.Unmarshal(r.Body, &b)
		comms = b.Total
	}
	if comms == 0 {
		t.Fatal("the referral raised no notification")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if failed, _ := rcv.snapshot(); failed > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if failed, got := rcv.snapshot(); failed == 0 || len(got) != 0 {
		t.Fatalf("before the kill: %d failed attempts, %d events accepted; want the deliveries pending", failed, len(got))
	}
	g.Kill()
	rcv.accept.Store(true)
	g2, err := Start(context.Background(), binary, g.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Stop()
	deadline = time.Now().Add(60 * time.Second)
	for {
		_, got := rcv.snapshot()
		if len(got) >= comms || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, got := rcv.snapshot()
	for n := int64(1); n <= int64(comms); n++ {
		keys := got[n]
		if len(keys) == 0 {
			t.Errorf("event %d was never delivered after the restart", n)
			continue
		}
		for _, k := range keys {
			if k == "" || k != keys[0] {
				t.Errorf("event %d arrived with keys %v: a retry must carry the same idempotency key", n, keys)
			}
		}
	}
	if len(got) > comms {
		t.Errorf("%d events delivered for %d notifications", len(got), comms)
	}
}
