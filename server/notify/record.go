package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// record writes the outcomes of a round in one commit: the outbox, the
// Communications' status, the Subscriptions' status, dead letters and their alerts.
func (w *Worker) record(ctx context.Context, results []result) error {
	now := w.now()
	return w.Write.Update(ctx, func(wr Writer) error {
		for _, r := range results {
			if err := w.apply(wr, r, now); err != nil {
				return err
			}
		}
		return trimLog(wr.Tx(), queuePrefix)
	})
}

func (w *Worker) apply(wr Writer, r result, now time.Time) error {
	tx := wr.Tx()
	if err := delAux(tx, leaseKey(r.seq)); err != nil { // recorded: free for the next attempt
		return err
	}
	var d Delivery
	ok, err := getJSON(tx, seqKey(queuePrefix, r.seq), &d)
	if err != nil || !ok {
		return err // already recorded (a replayed round)
	}
	cs, err := loadComm(tx, d.Communication)
	if err != nil {
		return err
	}
	cs.Attempted = true
	if r.err == "" {
		if err := delAux(tx, seqKey(queuePrefix, r.seq)); err != nil {
			return err
		}
		cs.Pending--
		if err := w.followStatus(wr, d.Communication, cs, now); err != nil {
			return err
		}
		if d.Subscription != "" {
			if err := setSubscriptionStatus(wr, d.Subscription, "active", ""); err != nil {
				return err
			}
		}
		return putJSON(tx, commKey(d.Communication), cs)
	}
	d.Attempts++
	d.LastError = r.err
	d.Next = now.Add(r.delay)
	if r.drop || d.Next.Sub(d.Created) > w.Horizon {
		return w.deadLetter(wr, d, cs, now)
	}
	if d.Subscription != "" {
		if err := setSubscriptionStatus(wr, d.Subscription, "error", "delivery of event "+strconv.FormatInt(d.Event, 10)+" failed: "+r.err); err != nil {
			return err
		}
	}
	if err := putJSON(tx, seqKey(queuePrefix, d.Seq), d); err != nil {
		return err
	}
	if err := w.followStatus(wr, d.Communication, cs, now); err != nil {
		return err
	}
	return putJSON(tx, commKey(d.Communication), cs)
}

// followStatus sets Communication.status from its deliveries: in-progress while
// some are pending, completed when all went, not-done (with its statusReason) once
// one is dead.
func (w *Worker) followStatus(wr Writer, comm string, cs commState, now time.Time) error {
	switch {
	case cs.Failed:
		return nil // not-done, set with its reason when the delivery died
	case cs.Pending <= 0:
		if err := resolveUndelivered(wr, comm); err != nil {
			return err
		}
		return setStatus(wr, comm, "completed", now)
	default:
		return setStatus(wr, comm, "in-progress", time.Time{})
	}
}

// deadLetter moves d to the dead letters, marks its Communication not-done with the
// channel's refusal as statusReason, raises a DetectedIssue and alerts the
// coordinator.
func (w *Worker) deadLetter(wr Writer, d Delivery, cs commState, now time.Time) error {
	tx := wr.Tx()
	if err := delAux(tx, seqKey(queuePrefix, d.Seq)); err != nil {
		return err
	}
	d.Dead = now
	if _, err := appendLog(tx, deadPrefix, func(int64) any { return d }); err != nil {
		return err
	}
	cs.Pending--
	cs.Failed = true
	channelName := "messagerie sécurisée"
	if d.Channel == ChannelRestHook {
		channelName = "abonnement FHIR (rest-hook)"
	}
	if err := markUndelivered(wr, d.Communication, "not-done", ReasonRefused,
		channelName+", "+strconv.Itoa(d.Attempts)+" tentative(s), dernière réponse : "+d.LastError, now); err != nil {
		return err
	}
	if d.Subscription != "" {
		if err := setSubscriptionStatus(wr, d.Subscription, "error", "event "+strconv.FormatInt(d.Event, 10)+" dead-lettered: "+d.LastError); err != nil {
			return err
		}
	}
	if err := putJSON(tx, commKey(d.Communication), cs); err != nil {
		return err
	}
	w.Logger.Warn("notify: dead letter", "key", d.Key, "channel", d.Channel, "attempts", d.Attempts)
	if d.Alert || cs.Coordinator == "" || cs.Patient == "" {
		return nil // an alert's own failure raises no alert: no loops
	}
	channel := "messagerie sécurisée"
	if d.Channel == ChannelRestHook {
		channel = "abonnement FHIR (rest-hook)"
	}
	alert := Milestone{Code: AlertDeadLetter, Display: "Notification not delivered", SeedSection: "000 §III",
		Patient: cs.Patient, About: []string{"Communication/" + d.Communication}, Coordinator: cs.Coordinator, EventTime: now,
		Facts: map[string]string{"milestone": milestoneLabel(Milestone{Code: d.Milestone}), "role": roleSource(d.Role).Label,
			"channel": channel, "attempts": strconv.Itoa(d.Attempts), "error": d.LastError, "key": d.Key}}
	n := &Notifier{}
	subs, err := n.listeners(tx, AlertDeadLetter, now)
	if err != nil {
		return err
	}
	_, err = n.tell(wr, alert, Recipient{Role: RoleAlgologist, Reference: cs.Coordinator}, subs, true)
	return err
}

// setSubscriptionStatus writes Subscription.status (and R4 Subscription.error) when
// they change.
func setSubscriptionStatus(wr Writer, id, status, errText string) error {
	rec, err := wr.Tx().Current("Subscription", id)
	if err != nil || rec.Deleted {
		return nil // gone: nothing to show the status on
	}
	var cur struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	_ = json.Unmarshal(rec.Body, &cur)
	if cur.Status == "off" || (cur.Status == status && (status != "error" || cur.Error != "")) {
		return nil
	}
	var body []byte
	if errText == "" {
		body, err = setMembers(rec.Body, [][2]any{{"status", status}}, "error")
	} else {
		body, err = setMembers(rec.Body, [][2]any{{"status", status}, {"error", errText}})
	}
	if err != nil {
		return err
	}
	_, _, err = wr.Put("Subscription", id, body, http.MethodPut, 0)
	return err
}

// DeadLetters lists the dead-lettered deliveries, oldest first.
func (w *Worker) DeadLetters(ctx context.Context) ([]Delivery, error) {
	var out []Delivery
	err := w.Store.View(ctx, func(tx fhir.Tx) error {
		out = nil
		var derr error
		err := scanLog(tx, deadPrefix, 0, func(n int64, raw []byte) bool {
			var d Delivery
			if derr = json.Unmarshal(raw, &d); derr != nil {
				return false
			}
			d.Seq = n // its place among the dead letters: what Replay takes
			out = append(out, d)
			return true
		})
		if err != nil {
			return err
		}
		return derr
	})
	return out, err
}

// Replay queues dead letters again (by their DeadLetters Seq; none: all of them),
// with fresh attempts and horizon but the same event number and idempotency key. It
// returns how many were queued.
func (w *Worker) Replay(ctx context.Context, seqs ...int64) (int, error) {
	w.init()
	now := w.now()
	var count int
	err := w.Write.Update(ctx, func(wr Writer) error {
		tx := wr.Tx()
		count = 0
		ids := seqs
		if len(ids) == 0 {
			if err := scanLog(tx, deadPrefix, 0, func(n int64, _ []byte) bool { ids = append(ids, n); return true }); err != nil {
				return err
			}
		}
		for _, n := range ids {
			var d Delivery
			ok, err := getJSON(tx, seqKey(deadPrefix, n), &d)
			if err != nil {
				return err
			}
			if !ok {
				return fhir.Errorf(http.StatusNotFound, "not-found", "", "no dead letter %d", n)
			}
			if err := delAux(tx, seqKey(deadPrefix, n)); err != nil {
				return err
			}
			cs, err := loadComm(tx, d.Communication)
			if err != nil {
				return err
			}
			d.Attempts, d.Created, d.Next, d.Dead = 0, now, now, time.Time{}
			if _, err := enqueue(tx, d, &cs); err != nil {
				return err
			}
			cs.Failed = false
			if err := putJSON(tx, commKey(d.Communication), cs); err != nil {
				return err
			}
			if err := setStatus(wr, d.Communication, "in-progress", time.Time{}); err != nil {
				return err
			}
			count++
		}
		return trimLog(tx, deadPrefix)
	})
	if err == nil && count > 0 {
		w.Wake()
	}
	return count, err
}
