package notify

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Worker delivers the outbox at least once: each lane (a subscription, a mail) in
// order, retried with exponential backoff and jitter until Horizon has passed since
// the delivery was queued, then dead-lettered with an alert to the coordinator. All
// its state is in the store, so a restarted worker carries on where the last one
// stopped; a delivery sent just before a crash is sent again, with the same
// idempotency key. Run one Worker per store.
type Worker struct {
	Store fhir.Store
	Write Updater
	// Base is the FHIR base URL with a trailing slash (references in Bundles).
	Base string
	// Mailer sends mails (nil: mail deliveries fail and are retried).
	Mailer Mailer
	// HTTP posts rest-hook notifications (nil: a client without redirects).
	HTTP *http.Client
	// Horizon is how long a delivery is retried (default 72 h); FirstDelay and
	// MaxDelay bound the backoff (defaults 1 s and 1 h).
	Horizon, FirstDelay, MaxDelay time.Duration
	// Poll is the pause when nothing is due (default 200 ms); SubscriptionScan the
	// period of handshakes and heartbeats (default 1 s).
	Poll, SubscriptionScan time.Duration
	// Parallel bounds the lanes delivered at once (default 8); LaneBatch the
	// deliveries of one lane sent in a round, one after the other (default 64).
	Parallel, LaneBatch int
	Logger              *slog.Logger
	// Instance names this worker among the gateways sharing the store (default: a
	// random id); Lease, when positive, is how long it holds a delivery it sends
	// (DefaultLease is the gateway's default with Redis): each due delivery is then
	// claimed in a store transaction, and a dead instance's deliveries are sent by
	// another after it. Zero: no claims, for a store only one process opens (bbolt),
	// where a claim would cost a commit per round and a restarted gateway would wait
	// for its own dead claims.
	Instance string
	Lease    time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	once      sync.Once
	wake      chan struct{}
	mu        sync.Mutex
	lastSent  map[string]time.Time // subscription → last notification (heartbeats)
	handshake map[string]time.Time // subscription → next handshake attempt
}

// DefaultHorizon is how long a delivery is retried before it is dead-lettered.
const DefaultHorizon = 72 * time.Hour

func (w *Worker) init() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		w.lastSent = map[string]time.Time{}
		w.handshake = map[string]time.Time{}
		if w.Horizon <= 0 {
			w.Horizon = DefaultHorizon
		}
		if w.FirstDelay <= 0 {
			w.FirstDelay = time.Second
		}
		if w.MaxDelay <= 0 {
			w.MaxDelay = time.Hour
		}
		if w.Poll <= 0 {
			w.Poll = 200 * time.Millisecond
		}
		if w.SubscriptionScan <= 0 {
			w.SubscriptionScan = time.Second
		}
		if w.Parallel <= 0 {
			w.Parallel = 8
		}
		if w.LaneBatch <= 0 {
			w.LaneBatch = 64
		}
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Instance == "" {
			w.Instance = newID()
		}
		if w.HTTP == nil {
			w.HTTP = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
	})
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

// Wake makes a running worker look at the outbox now (call it after a commit that
// queued deliveries; polling finds them anyway).
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	var lastScan time.Time
	for ctx.Err() == nil {
		if time.Since(lastScan) >= w.SubscriptionScan {
			lastScan = time.Now()
			if err := w.Subscriptions(ctx); err != nil && ctx.Err() == nil {
				w.Logger.Warn("notify: subscription scan", "err", err)
			}
		}
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Logger.Warn("notify: outbox", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		t := time.NewTimer(w.Poll)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return ctx.Err()
}

// job is one delivery ready to send, with everything read from the store.
type job struct {
	d    Delivery
	sub  *subscription
	body []byte // rest-hook Bundle
	mail *Mail
	comm []byte // the Communication of a mail: its letter's documents are read when sent
	// drop is a permanent failure found while reading (subscription gone or off).
	drop string
}

// result is the outcome of one job.
type result struct {
	seq   int64
	err   string
	drop  bool
	delay time.Duration // backoff drawn before the transaction (fn must be pure)
}

// RunOnce sends what is due once and records the outcomes; it returns how many
// deliveries it tried.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.init()
	lanes, err := w.collect(ctx)
	if err != nil || len(lanes) == 0 {
		return 0, err
	}
	if w.Lease > 0 {
		if lanes, err = w.claim(ctx, lanes); err != nil || len(lanes) == 0 {
			return 0, err
		}
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
		sem     = make(chan struct{}, w.Parallel)
	)
	for _, jobs := range lanes {
		wg.Add(1)
		sem <- struct{}{}
		go func(jobs []*job) {
			defer func() { <-sem; wg.Done() }()
			for _, j := range jobs {
				r := result{seq: j.d.Seq}
				if j.drop != "" {
					r.err, r.drop = j.drop, true
				} else if err := w.send(ctx, j); err != nil {
					r.err = err.Error()
					r.delay = w.backoff(j.d.Attempts + 1)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if r.err != "" {
					return // keep the lane's order: nothing after a failure
				}
			}
		}(jobs)
	}
	wg.Wait()
	return len(results), w.record(ctx, results)
}

// backoff draws the delay before attempt n+1: exponential, capped, with jitter in
// [d/2, d] so that receivers coming back are not hit by every sender at once.
func (w *Worker) backoff(n int) time.Duration {
	d := w.FirstDelay
	for i := 1; i < n && d < w.MaxDelay; i++ {
		d *= 2
	}
	if d > w.MaxDelay {
		d = w.MaxDelay
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// collect reads the due prefix of every lane.
func (w *Worker) collect(ctx context.Context) (map[string][]*job, error) {
	now := w.now()
	lanes := map[string][]*job{}
	blocked := map[string]bool{}
	err := w.Store.View(ctx, func(tx fhir.Tx) error {
		lanes, blocked = map[string][]*job{}, map[string]bool{}
		subs := map[string]*subscription{}
		var ferr error
		err := scanLog(tx, queuePrefix, 20000, func(_ int64, raw []byte) bool {
			var d Delivery
			if json.Unmarshal(raw, &d) != nil {
				return true
			}
			if blocked[d.Lane] || len(lanes[d.Lane]) >= w.LaneBatch || d.Next.After(now) {
				blocked[d.Lane] = true
				return true
			}
			j, wait, err := w.prepare(tx, d, subs)
			if err != nil {
				ferr = err
				return false
			}
			if wait {
				blocked[d.Lane] = true
				return true
			}
			lanes[d.Lane] = append(lanes[d.Lane], j)
			return true
		})
		if err != nil {
			return err
		}
		return ferr
	})
	return lanes, err
}

// prepare reads what a delivery needs; wait reports a lane that must hold (its
// subscription has not completed its handshake).
func (w *Worker) prepare(tx fhir.Tx, d Delivery, subs map[string]*subscription) (*job, bool, error) {
	j := &job{d: d}
	comm, err := tx.Current("Communication", d.Communication)
	if err != nil && !errors.Is(err, fhir.ErrNotFound) {
		return nil, false, err
	}
	if comm == nil || comm.Deleted {
		j.drop = "the Communication was deleted"
		return j, false, nil
	}
	switch d.Channel {
	case ChannelRestHook:
		s, ok := subs[d.Subscription]
		if !ok {
			s, err = loadSubscription(tx, d.Subscription)
			if err != nil && !errors.Is(err, fhir.ErrNotFound) && !errors.Is(err, fhir.ErrGone) {
				return nil, false, err
			}
			subs[d.Subscription] = s
		}
		switch {
		case s == nil:
			j.drop = "the Subscription was deleted"
			return j, false, nil
		case s.Status == "off":
			j.drop = "the Subscription is off"
			return j, false, nil
		case s.Status == "requested":
			return nil, true, nil
		case s.Status == "error":
			if ok, _ := getJSON(tx, "s/"+s.ID+"/hs", new(bool)); !ok {
				return nil, true, nil
			}
		}
		var ev event
		if _, err := getJSON(tx, eventKey(s.ID, d.Event), &ev); err != nil {
			return nil, false, err
		}
		ev.N, ev.Communication = d.Event, d.Communication
		j.sub = s
		// events-since-subscription-start is this event's number, so that a receiver
		// sees a gap at once.
		j.body = notificationBundle(w.Base, s, TypeEvent, d.Event, []event{ev},
			map[string][]byte{d.Communication: comm.Body}, w.now())
	case ChannelEmail:
		j.mail, j.comm = letterMail(tx, d, comm.Body), comm.Body
	default:
		j.drop = "unknown channel " + d.Channel
	}
	return j, false, nil
}

// letterMail builds the mail of a Communication: its letter, and the Communication
// and the resources it is about as JSON attachments.
func letterMail(tx fhir.Tx, d Delivery, body []byte) *Mail {
	var c struct {
		Category []struct {
			Text string `json:"text"`
		} `json:"category"`
		Payload []struct {
			ContentString string `json:"contentString"`
		} `json:"payload"`
		About []struct {
			Reference string `json:"reference"`
		} `json:"about"`
	}
	_ = json.Unmarshal(body, &c)
	m := &Mail{To: d.Address, Key: d.Key, Subject: "Notification AIT"}
	if len(c.Category) > 0 && c.Category[0].Text != "" {
		m.Subject = c.Category[0].Text
	}
	for _, p := range c.Payload {
		m.Body += p.ContentString
	}
	m.Attachments = append(m.Attachments, Attachment{Name: "Communication-" + d.Communication + ".json", Data: body})
	for i, a := range c.About {
		if i >= 10 {
			break
		}
		typ, id, ok := splitRef(a.Reference)
		if !ok {
			continue
		}
		if rec, err := tx.Current(typ, id); err == nil && !rec.Deleted {
			m.Attachments = append(m.Attachments, Attachment{Name: typ + "-" + id + ".json", Data: rec.Body})
		}
	}
	return m
}

// tracer makes the delivery spans (a no-op until the gateway installs a provider).
var tracer = otel.Tracer("github.com/aitgw/aitgw/server/notify")

// send delivers one job through its channel, in a span naming the channel, the
// milestone and the attempt (no address, no patient).
func (w *Worker) send(ctx context.Context, j *job) (err error) {
	ctx, span := tracer.Start(ctx, "notify.deliver", trace.WithAttributes(
		attribute.String("notify.channel", j.d.Channel), attribute.String("notify.milestone", j.d.Milestone),
		attribute.Int("notify.attempt", j.d.Attempts+1)))
	defer func() {
		if err != nil {
			span.SetStatus(codes.Error, "not delivered")
		}
		span.End()
	}()
	switch {
	case j.sub != nil:
		err := postHook(ctx, w.HTTP, j.sub, j.body, j.d.Key)
		if err == nil {
			w.mu.Lock()
			w.lastSent[j.sub.ID] = time.Now()
			w.mu.Unlock()
		}
		return err
	case j.mail != nil:
		if w.Mailer == nil {
			return errors.New("no SMTP relay configured")
		}
		// the PDF and the XDM zip are built here, in the lane's goroutine, so that
		// other lanes do not wait for them
		m := *j.mail
		err := w.Store.View(ctx, func(tx fhir.Tx) error {
			m.Attachments = append(secureDocuments(tx, j.d, j.comm), j.mail.Attachments...)
			return nil
		})
		if err != nil {
			return err
		}
		return w.Mailer.Send(ctx, &m)
	}
	return errors.New("nothing to send")
}
