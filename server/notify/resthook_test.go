package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// hook is a rest-hook receiver that refuses the first `fail` event notifications.
type hook struct {
	mu       sync.Mutex
	fail     int
	calls    []call
	accepted []call
	srv      *httptest.Server
}

type call struct {
	typ, key, auth string
	event          int64
	since          string
	bundle         map[string]any
	at             time.Time
}

func startHook(t testing.TB, fail int) *hook {
	h := &hook{fail: fail}
	h.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var bundle map[string]any
		if err := json.Unmarshal(b, &bundle); err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		c := call{key: r.Header.Get("Idempotency-Key"), auth: r.Header.Get("Authorization"), bundle: bundle, at: time.Now()}
		c.typ, c.since, c.event = statusOf(bundle)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls = append(h.calls, c)
		if c.typ == TypeEvent && h.fail > 0 {
			h.fail--
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if c.typ == TypeEvent {
			h.accepted = append(h.accepted, c)
		}
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) snapshot() (calls, accepted []call) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]call(nil), h.calls...), append([]call(nil), h.accepted...)
}

// statusOf reads the SubscriptionStatus that must open a notification Bundle.
func statusOf(bundle map[string]any) (typ, since string, event int64) {
	entries, _ := bundle["entry"].([]any)
	if len(entries) == 0 {
		return "", "", 0
	}
	res, _ := entries[0].(map[string]any)["resource"].(map[string]any)
	if res["resourceType"] != "Parameters" {
		return "", "", 0
	}
	for _, p := range res["parameter"].([]any) {
		p := p.(map[string]any)
		switch p["name"] {
		case "type":
			typ, _ = p["valueCode"].(string)
		case "events-since-subscription-start":
			since, _ = p["valueString"].(string)
		case "notification-event":
			for _, part := range p["part"].([]any) {
				part := part.(map[string]any)
				if part["name"] == "event-number" {
					event, _ = strconv.ParseInt(part["valueString"].(string), 10, 64)
				}
			}
		}
	}
	return typ, since, event
}

func subscriptionJSON(id, endpoint, content, filter string, heartbeat int) string {
	hb := ""
	if heartbeat > 0 {
		hb = fmt.Sprintf(`"extension":[{"url":%q,"valueUnsignedInt":%d}],`, extHeartbeatPeriod, heartbeat)
	}
	return fmt.Sprintf(`{"resourceType":"Subscription","id":%q,"status":"requested","reason":"milestones","criteria":%q,`+
		`"_criteria":{"extension":[{"url":%q,"valueString":%q}]},`+
		`"channel":{%s"type":"rest-hook","endpoint":%q,"payload":"application/fhir+json",`+
		`"_payload":{"extension":[{"url":%q,"valueCode":%q}]},"header":["Authorization: Bearer t0k3n"]}}`,
		id, TopicAllMilestones, extFilterCriteria, filter, hb, endpoint, extPayloadContent, content)
}

type acceptMail struct{}

func (acceptMail) Send(context.Context, *Mail) error { return nil }

func refill(i int) Milestone {
	return Milestone{Code: "refill", Display: "Refill", SeedSection: "000 §XIII", Patient: "Patient/p1",
		Coordinator: "Practitioner/algo", Recipients: []Recipient{{RoleGP, "Practitioner/gp"}},
		Facts: map[string]string{"date": fmt.Sprintf("%02d/04/2026", i+1), "drugs": "morphine 1,5 mg/j"}}
}

// A receiver that fails 3 times then accepts gets every notification, in event
// order, with the same idempotency key on each retry; the handshake came first, and
// the Subscription showed the errors while they lasted.
func TestRestHookRetriesKeepOrderAndKey(t *testing.T) {
	h := startHook(t, 3)
	e := newEnv(t)
	e.pathway()
	e.put(subscriptionJSON("gpfeed", h.srv.URL, PayloadFullResource, "Communication?recipient=Practitioner/gp", 0))
	const n = 10
	for i := 0; i < n; i++ {
		if err := e.milestone(refill(i)); err != nil {
			t.Fatal(err)
		}
	}
	w := e.worker()
	w.Mailer = acceptMail{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitFor(t, "all notifications", 10*time.Second, func() bool { _, acc := h.snapshot(); return len(acc) >= n })
	waitFor(t, "completed Communications", 5*time.Second, func() bool {
		return len(e.match("Communication", "recipient=Practitioner/gp&status=completed")) == n
	})
	cancel()

	calls, accepted := h.snapshot()
	if calls[0].typ != TypeHandshake || calls[0].auth != "Bearer t0k3n" {
		t.Errorf("first call %q (auth %q), want the handshake with the channel header", calls[0].typ, calls[0].auth)
	}
	if len(accepted) != n {
		t.Fatalf("accepted %d notifications, want %d", len(accepted), n)
	}
	keys := map[int64]string{}
	for i, c := range accepted {
		if c.event != int64(i+1) || c.since != strconv.Itoa(i+1) {
			t.Errorf("notification %d carries event %d (since %s): order lost", i, c.event, c.since)
		}
		if c.bundle["type"] != "history" {
			t.Errorf("bundle type %v", c.bundle["type"])
		}
		entries := c.bundle["entry"].([]any)
		if len(entries) != 2 {
			t.Fatalf("full-resource notification has %d entries", len(entries))
		}
		res := entries[1].(map[string]any)["resource"].(map[string]any)
		if res["resourceType"] != "Communication" || c.key != res["id"].(string)+":"+strconv.Itoa(i+1) {
			t.Errorf("notification %d: key %q, focus %v", i, c.key, res["id"])
		}
		keys[c.event] = c.key
	}
	retries := 0
	for _, c := range calls {
		if c.typ != TypeEvent {
			continue
		}
		if keys[c.event] != c.key {
			t.Errorf("event %d retried with key %q, delivered with %q", c.event, c.key, keys[c.event])
		}
		retries++
	}
	if retries != n+3 {
		t.Errorf("%d event calls, want %d (3 failures retried)", retries, n+3)
	}
	var statuses []string
	_ = e.store.View(context.Background(), func(tx fhir.Tx) error {
		return tx.History(fhir.HistoryFilter{Type: "Subscription", ID: "gpfeed"}, func(r *fhir.Record) bool {
			var s struct{ Status, Error string }
			_ = json.Unmarshal(r.Body, &s)
			statuses = append([]string{s.Status}, statuses...)
			return true
		})
	})
	if fmt.Sprint(statuses) != "[requested active error active]" {
		t.Errorf("Subscription status history %v, want requested → active → error → active", statuses)
	}
}

// A receiver that never accepts: the delivery is dead-lettered at the horizon, the
// Communication is not-done with its reason, a DetectedIssue is raised, the coordinator is alerted; replayed once the
// receiver is back, it arrives with its original key.
func TestDeadLetterAlertAndReplay(t *testing.T) {
	h := startHook(t, 1<<30)
	e := newEnv(t)
	e.pathway()
	e.put(subscriptionJSON("gpfeed", h.srv.URL, PayloadIDOnly, "Communication?recipient=Practitioner/gp", 0))
	m := refill(0)
	if err := e.milestone(m); err != nil {
		t.Fatal(err)
	}
	comm := e.match("Communication", "recipient=Practitioner/gp")[0]
	w := e.worker()
	w.Mailer = acceptMail{}
	w.Horizon = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitFor(t, "a dead letter", 10*time.Second, func() bool {
		dl, err := w.DeadLetters(context.Background())
		return err == nil && len(dl) == 1
	})
	dl, _ := w.DeadLetters(context.Background())
	if dl[0].Communication != comm || dl[0].Key != comm+":1" || dl[0].Attempts < 2 || dl[0].LastError == "" {
		t.Errorf("dead letter %+v", dl[0])
	}
	waitFor(t, "not-done", 5*time.Second, func() bool {
		return e.read("Communication", comm)["status"] == "not-done"
	})
	if r := e.read("Communication", comm)["statusReason"]; r == nil || !strings.Contains(fmt.Sprint(r), ReasonRefused) {
		t.Errorf("statusReason %v", r)
	}
	if ids := e.match("DetectedIssue", "patient=Patient/p1&code="+IssueSystem+"|"+IssueUndelivered); len(ids) != 1 {
		t.Errorf("DetectedIssues of the undelivered notification: %v", ids)
	}
	alerts := e.match("Communication", "recipient=Practitioner/algo&category="+CategorySystem+"|"+AlertDeadLetter)
	if len(alerts) != 1 {
		t.Fatalf("dead-letter alerts to the coordinator: %v", alerts)
	}
	if s := e.read("Subscription", "gpfeed"); s["status"] != "error" || s["error"] == nil {
		t.Errorf("Subscription shows no error: %v %v", s["status"], s["error"])
	}

	h.mu.Lock()
	h.fail = 0
	h.mu.Unlock()
	if n, err := w.Replay(context.Background()); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	waitFor(t, "the replayed notification", 10*time.Second, func() bool { _, acc := h.snapshot(); return len(acc) == 1 })
	_, acc := h.snapshot()
	if acc[0].key != comm+":1" || acc[0].event != 1 {
		t.Errorf("replayed with key %q event %d", acc[0].key, acc[0].event)
	}
	if entries := acc[0].bundle["entry"].([]any); len(entries) != 2 || entries[1].(map[string]any)["resource"] != nil {
		t.Errorf("id-only notification carries a resource or misses the focus entry: %v", entries)
	}
	waitFor(t, "completed after replay", 5*time.Second, func() bool {
		return e.read("Communication", comm)["status"] == "completed"
	})
	if dl, _ := w.DeadLetters(context.Background()); len(dl) != 0 {
		t.Errorf("dead letters after replay: %v", dl)
	}
	if c := e.read("Communication", comm); c["statusReason"] != nil {
		t.Errorf("statusReason kept after delivery: %v", c["statusReason"])
	}
	if di := e.read("DetectedIssue", issueID(comm)); di["status"] != "cancelled" {
		t.Errorf("DetectedIssue still %v after delivery", di["status"])
	}
}
