package notify

import (
	"context"
	"strconv"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// DefaultLease is how long an instance holds the deliveries it is sending.
const DefaultLease = 2 * time.Minute

// lease is an instance's claim on a queued delivery. Several gateways share one
// store (Redis): each due delivery is claimed, in a store transaction, by the one
// instance that sends it; a claim that expires (the instance died mid-send) frees
// the delivery for another, which sends it again with the same idempotency key.
type lease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

func leaseKey(seq int64) string { return "l/" + strconv.FormatInt(seq, 10) }

// heldByOther reports whether another live instance holds the delivery.
func (w *Worker) heldByOther(tx fhir.Tx, seq int64, now time.Time) (bool, error) {
	var l lease
	ok, err := getJSON(tx, leaseKey(seq), &l)
	if err != nil || !ok {
		return false, err
	}
	return l.Owner != w.Instance && l.Until.After(now), nil
}

// claim leases the due jobs of each lane to this instance, in lane order, and returns
// those it holds: a lane stops at its first delivery held by another instance or
// recorded meanwhile, so that a lane's order holds across instances.
func (w *Worker) claim(ctx context.Context, lanes map[string][]*job) (map[string][]*job, error) {
	now := w.now()
	// a read first: a claim is a write, and a write wakes this worker again
	var candidates int
	err := w.Store.View(ctx, func(tx fhir.Tx) error {
		candidates = 0
		for _, jobs := range lanes {
			if len(jobs) == 0 {
				continue
			}
			held, err := w.heldByOther(tx, jobs[0].d.Seq, now)
			if err != nil {
				return err
			}
			if !held {
				candidates++
			}
		}
		return nil
	})
	if err != nil || candidates == 0 {
		return nil, err
	}
	var out map[string][]*job
	err = w.Write.Update(ctx, func(wr Writer) error {
		tx := wr.Tx()
		out = map[string][]*job{}
		for lane, jobs := range lanes {
			for _, j := range jobs {
				var cur Delivery
				ok, err := getJSON(tx, seqKey(queuePrefix, j.d.Seq), &cur)
				if err != nil {
					return err
				}
				if !ok || cur.Attempts != j.d.Attempts || cur.Next.After(now) {
					break // recorded by another instance since it was read
				}
				held, err := w.heldByOther(tx, j.d.Seq, now)
				if err != nil {
					return err
				}
				if held {
					break
				}
				if err := putJSON(tx, leaseKey(j.d.Seq), lease{Owner: w.Instance, Until: now.Add(w.Lease)}); err != nil {
					return err
				}
				out[lane] = append(out[lane], j)
			}
		}
		return nil
	})
	return out, err
}
