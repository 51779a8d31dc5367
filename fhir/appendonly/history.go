package appendonly

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// History calls fn for the resources in f's window, newest first by LastUpdated. For
// one id that is its single version. For the type (or the system, which here is the
// same) it reads the time key of every ev row, walking ids backwards, then visits the
// matches by time, later ids first on equal times. Ids are caller-chosen, so no order
// between ids and times can be relied on to stop the walk early; the audit trail's
// history is a rare, administrative read.
func (t *tx) History(f fhir.HistoryFilter, fn func(*fhir.Record) bool) error {
	if f.Type != "" && f.Type != t.typ {
		return nil
	}
	if f.ID != "" {
		if f.Type == "" {
			return nil // an instance always names its type
		}
		r, err := t.Version(f.Type, f.ID, 1)
		if errors.Is(err, fhir.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if storecodec.InHistoryWindow(f, r.LastUpdated) {
			fn(r)
		}
		return nil
	}
	// Time keys clamp instants outside ±292 years of 1970, so they only pre-filter,
	// inclusively; InHistoryWindow decides on the decoded record.
	var since, at []byte
	if !f.Since.IsZero() {
		since = storecodec.AppendTimeKey(nil, f.Since)
	}
	if !f.At.IsZero() {
		at = storecodec.AppendTimeKey(nil, f.At)
	}
	type hit struct {
		when uint64
		id   string
	}
	var hits []hit
	c := t.btx.Bucket(bucketEv).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		tk, _, _, err := decodeEvent(v)
		if err != nil {
			return err
		}
		if (since != nil && bytes.Compare(tk, since) < 0) || (at != nil && bytes.Compare(tk, at) > 0) {
			continue
		}
		hits = append(hits, hit{when: binary.BigEndian.Uint64(tk), id: string(k)})
	}
	// Stable: equal times keep the backwards id order, later ids first.
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.when > b.when:
			return -1
		case a.when < b.when:
			return 1
		}
		return 0
	})
	ev := t.btx.Bucket(bucketEv)
	for _, h := range hits {
		r, err := t.record(h.id, ev.Get([]byte(h.id)))
		if err != nil {
			return err
		}
		if !storecodec.InHistoryWindow(f, r.LastUpdated) {
			continue
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}
