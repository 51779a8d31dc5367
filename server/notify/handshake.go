package notify

import (
	"context"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Subscriptions runs the channel upkeep of the rest-hook Subscriptions: the
// handshake of a requested one (status requested → active, or error with the
// reason), and the heartbeat of an active one that asked for it
// (backport-heartbeat-period) and was sent nothing for that long.
func (w *Worker) Subscriptions(ctx context.Context) error {
	w.init()
	type todo struct {
		s     *subscription
		typ   string
		count int64
	}
	var list []todo
	now := time.Now()
	err := w.Store.View(ctx, func(tx fhir.Tx) error {
		list = nil
		return tx.ScanType("Subscription", func(rec *fhir.Record) bool {
			s, err := parseSubscription(rec.ID, rec.Body)
			if err != nil || s.Type != "rest-hook" || s.Endpoint == "" {
				return true
			}
			count, _ := eventCount(tx, s.ID)
			done, _ := getJSON(tx, "s/"+s.ID+"/hs", new(bool))
			w.mu.Lock()
			defer w.mu.Unlock()
			switch {
			case s.Status == "requested" || (s.Status == "error" && !done):
				if now.After(w.handshake[s.ID]) {
					list = append(list, todo{s, TypeHandshake, count})
				}
			case s.Status == "active" && s.Heartbeat > 0:
				last, ok := w.lastSent[s.ID]
				if !ok {
					w.lastSent[s.ID] = now
				} else if now.Sub(last) >= s.Heartbeat {
					list = append(list, todo{s, TypeHeartbeat, count})
				}
			}
			return true
		})
	})
	if err != nil {
		return err
	}
	for _, t := range list {
		bundle := notificationBundle(w.Base, t.s, t.typ, t.count, nil, nil, w.now())
		err := postHook(ctx, w.HTTP, t.s, bundle, "")
		w.mu.Lock()
		if err == nil {
			w.lastSent[t.s.ID] = time.Now()
			delete(w.handshake, t.s.ID)
		} else if t.typ == TypeHandshake {
			w.handshake[t.s.ID] = time.Now().Add(w.backoff(2))
		}
		w.mu.Unlock()
		if t.typ != TypeHandshake {
			continue // a missed heartbeat changes nothing stored
		}
		status, text := "active", ""
		if err != nil {
			status, text = "error", "handshake failed: "+err.Error()
		}
		id := t.s.ID
		uerr := w.Write.Update(ctx, func(wr Writer) error {
			if err == nil {
				if err := putJSON(wr.Tx(), "s/"+id+"/hs", true); err != nil {
					return err
				}
			}
			return setSubscriptionStatus(wr, id, status, text)
		})
		if uerr != nil {
			return uerr
		}
		if err == nil {
			w.Wake() // events may be waiting for the handshake
		}
	}
	return nil
}
