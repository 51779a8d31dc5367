package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// The outbox lives in the store's Aux records of namespace auxNS, so that a delivery
// is queued in the same commit as its Communication. There is no scan over Aux: the
// queue and the dead letters are logs under sequential keys between a head and a tail
// counter, and a subscription's events are numbered from 1.
const auxNS = "notify"

// Channels a delivery goes through.
const (
	ChannelRestHook = "rest-hook"
	ChannelEmail    = "email"
)

// Delivery is one queued sending of a notification through one channel.
type Delivery struct {
	Seq int64 `json:"seq"`
	// Lane orders deliveries: within a lane they go one after the other, in Seq order
	// (one lane per subscription, one per mail).
	Lane    string `json:"lane"`
	Channel string `json:"channel"`
	// Communication is the notification's id; Subscription the subscription's id for
	// rest-hook; Address the mailbox for email.
	Communication string `json:"communication"`
	Subscription  string `json:"subscription,omitempty"`
	Address       string `json:"address,omitempty"`
	// Event is the event number (per subscription; 1 for a mail). Key is the
	// idempotency key receivers drop duplicates by: notification id and event number.
	Event int64  `json:"event"`
	Key   string `json:"key"`
	// Role of the recipient and milestone code, for the dead-letter alert.
	Role      string `json:"role,omitempty"`
	Milestone string `json:"milestone,omitempty"`
	// Alert marks a delivery of an alert: its dead letter raises no further alert.
	Alert bool `json:"alert,omitempty"`

	Attempts  int       `json:"attempts"`
	Created   time.Time `json:"created"`
	Next      time.Time `json:"next"`
	LastError string    `json:"lastError,omitempty"`
	// Dead is when it was dead-lettered (dead letters only).
	Dead time.Time `json:"dead,omitempty"`
}

// commState tracks the deliveries of one Communication so that its status follows
// them.
type commState struct {
	Pending     int    `json:"pending"`
	Failed      bool   `json:"failed,omitempty"`
	Attempted   bool   `json:"attempted,omitempty"`
	Coordinator string `json:"coordinator,omitempty"`
	Patient     string `json:"patient,omitempty"`
}

// event is one event of a subscription, kept for $events.
type event struct {
	N             int64     `json:"n"`
	Time          time.Time `json:"time"`
	Communication string    `json:"communication"`
	Topic         string    `json:"topic"`
}

// logBounds are the head (lowest live key) and tail (next key) of a log.
type logBounds struct {
	Head int64 `json:"head"`
	Tail int64 `json:"tail"`
}

func seqKey(prefix string, n int64) string { return fmt.Sprintf("%s/%020d", prefix, n) }

const (
	queuePrefix = "q"
	deadPrefix  = "d"
)

func getJSON(tx fhir.Tx, key string, v any) (bool, error) {
	b, err := tx.GetAux(auxNS, key)
	if errors.Is(err, fhir.ErrNotFound) || (err == nil && b == nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func putJSON(tx fhir.Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.PutAux(auxNS, key, b)
}

func delAux(tx fhir.Tx, key string) error { return tx.PutAux(auxNS, key, nil) }

func bounds(tx fhir.Tx, prefix string) (logBounds, error) {
	lb := logBounds{Head: 1, Tail: 1}
	_, err := getJSON(tx, prefix+"/bounds", &lb)
	return lb, err
}

// appendLog puts v at the tail of a log and returns its key number.
func appendLog(tx fhir.Tx, prefix string, set func(n int64) any) (int64, error) {
	lb, err := bounds(tx, prefix)
	if err != nil {
		return 0, err
	}
	n := lb.Tail
	lb.Tail++
	if err := putJSON(tx, seqKey(prefix, n), set(n)); err != nil {
		return 0, err
	}
	return n, putJSON(tx, prefix+"/bounds", lb)
}

// trimLog advances a log's head past entries already removed, so that readers start
// at the first live one.
func trimLog(tx fhir.Tx, prefix string) error {
	lb, err := bounds(tx, prefix)
	if err != nil {
		return err
	}
	h := lb.Head
	for ; h < lb.Tail; h++ {
		b, err := tx.GetAux(auxNS, seqKey(prefix, h))
		if err != nil && !errors.Is(err, fhir.ErrNotFound) {
			return err
		}
		if b != nil {
			break
		}
	}
	if h == lb.Head {
		return nil
	}
	lb.Head = h
	return putJSON(tx, prefix+"/bounds", lb)
}

// scanLog calls fn for the live entries of a log in key order, at most limit of them
// read (0: no limit), until fn returns false.
func scanLog(tx fhir.Tx, prefix string, limit int, fn func(n int64, raw []byte) bool) error {
	lb, err := bounds(tx, prefix)
	if err != nil {
		return err
	}
	for n, read := lb.Head, 0; n < lb.Tail && (limit == 0 || read < limit); n++ {
		b, err := tx.GetAux(auxNS, seqKey(prefix, n))
		if err != nil && !errors.Is(err, fhir.ErrNotFound) {
			return err
		}
		if b == nil {
			continue
		}
		read++
		if !fn(n, b) {
			return nil
		}
	}
	return nil
}

// enqueue queues d at the tail of the outbox, counting it against its Communication.
func enqueue(tx fhir.Tx, d Delivery, cs *commState) (int64, error) {
	n, err := appendLog(tx, queuePrefix, func(n int64) any { d.Seq = n; return d })
	if err != nil {
		return 0, err
	}
	cs.Pending++
	return n, nil
}

func commKey(id string) string { return "c/" + id }

func loadComm(tx fhir.Tx, id string) (commState, error) {
	var cs commState
	_, err := getJSON(tx, commKey(id), &cs)
	return cs, err
}

// nextEvent numbers the next event of a subscription and records it for $events.
func nextEvent(tx fhir.Tx, sub, comm, topic string, at time.Time) (int64, error) {
	key := "s/" + sub + "/n"
	var n int64
	if _, err := getJSON(tx, key, &n); err != nil {
		return 0, err
	}
	n++
	if err := putJSON(tx, key, n); err != nil {
		return 0, err
	}
	return n, putJSON(tx, eventKey(sub, n), event{N: n, Time: at, Communication: comm, Topic: topic})
}

func eventKey(sub string, n int64) string { return "s/" + sub + "/e/" + strconv.FormatInt(n, 10) }

// eventCount is events-since-subscription-start.
func eventCount(tx fhir.Tx, sub string) (int64, error) {
	var n int64
	_, err := getJSON(tx, "s/"+sub+"/n", &n)
	return n, err
}

func idempotencyKey(comm string, ev int64) string { return comm + ":" + strconv.FormatInt(ev, 10) }
