package notify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Stats is the outbox as an operator watches it: how many deliveries wait, how long
// the oldest has waited, and how many were dead-lettered and not replayed. It carries
// no patient data, so it may feed metrics.
type Stats struct {
	// Pending is the number of deliveries in the queue (the queue's live span: an
	// upper bound while a batch is being removed).
	Pending int64
	// OldestPending is the age of the oldest queued delivery (0 with none).
	OldestPending time.Duration
	// DeadLetters is the number of dead letters kept.
	DeadLetters int64
}

// OutboxStats reads the outbox's counters from a snapshot of store: two bound
// records and one queued delivery, whatever the queue's length.
func OutboxStats(ctx context.Context, store fhir.Store, now time.Time) (Stats, error) {
	var st Stats
	err := store.View(ctx, func(tx fhir.Tx) error {
		q, err := bounds(tx, queuePrefix)
		if err != nil {
			return err
		}
		st.Pending = q.Tail - q.Head
		d, err := bounds(tx, deadPrefix)
		if err != nil {
			return err
		}
		st.DeadLetters = d.Tail - d.Head
		return scanLog(tx, queuePrefix, 1, func(_ int64, raw []byte) bool {
			var first Delivery
			if json.Unmarshal(raw, &first) == nil && !first.Created.IsZero() {
				st.OldestPending = now.Sub(first.Created)
			}
			return false
		})
	})
	return st, err
}
