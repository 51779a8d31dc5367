package redis

import (
	"errors"
	"fmt"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// History walks versions newest first: by version for one resource, by time (then
// commit order) for a type or the system. Versions buffered in an Update come first
// among equal times, as they will once committed.
func (t *tx) History(f fhir.HistoryFilter, fn func(*fhir.Record) bool) error {
	var pending []*fhir.Record // buffered versions that match, newest first
	if t.w != nil {
		for i := len(t.w.log) - 1; i >= 0; i-- {
			r := t.w.log[i]
			if (f.Type == "" || r.Type == f.Type) && (f.ID == "" || r.ID == f.ID) && storecodec.InHistoryWindow(f, r.LastUpdated) {
				pending = append(pending, r)
			}
		}
		slices.SortStableFunc(pending, func(a, b *fhir.Record) int { return b.LastUpdated.Compare(a.LastUpdated) })
	}
	if f.ID != "" {
		for _, r := range pending { // higher versions than anything in Redis
			if !fn(storecodec.CloneRecord(r)) {
				return nil
			}
		}
		return t.instanceHistory(f, fn)
	}
	return t.timeHistory(f, pending, fn)
}

// instanceHistory walks the committed versions of one resource, newest first.
func (t *tx) instanceHistory(f fhir.HistoryFilter, fn func(*fhir.Record) bool) error {
	st, err := t.redisState(f.Type, f.ID)
	if err != nil {
		return err
	}
	key := t.s.keys.versions(f.Type, f.ID)
	for hi := st.Version; hi >= 1; hi -= 64 {
		fields := make([]string, 0, 64)
		for v := hi; v >= 1 && v > hi-64; v-- {
			fields = append(fields, versionField(v))
		}
		vals, err := t.s.rdb.HMGet(t.ctx, key, fields...).Result()
		if err != nil {
			return err
		}
		for i, raw := range vals {
			s, ok := raw.(string)
			if !ok {
				return fmt.Errorf("redis store: %s/%s version %d missing", f.Type, f.ID, hi-int64(i))
			}
			r, err := storecodec.DecodeRecord(f.Type, f.ID, hi-int64(i), []byte(s))
			if err != nil {
				return err
			}
			// Versions are usually in time order, but a clock step back must not hide any.
			if storecodec.InHistoryWindow(f, r.LastUpdated) && !fn(r) {
				return nil
			}
		}
	}
	return nil
}

// timeHistory walks the type or system history in Redis, newest first, merging the
// pending versions in.
func (t *tx) timeHistory(f fhir.HistoryFilter, pending []*fhir.Record, fn func(*fhir.Record) bool) error {
	key := t.s.keys.hist()
	if f.Type != "" {
		key = t.s.keys.typeHist(f.Type)
	}
	hi, lo := "+", "-"
	if !f.At.IsZero() {
		hi = "(" + timeKey(f.At)
	}
	if !f.Since.IsZero() {
		lo = "[" + timeKey(f.Since)
	}
	for {
		page, err := t.s.rdb.ZRangeArgs(t.ctx, goredis.ZRangeArgs{Key: key, Start: hi, Stop: lo, ByLex: true, Rev: true, Count: pageSize}).Result()
		if err != nil {
			return err
		}
		recs, err := t.loadHistoryPage(f.Type, page)
		if err != nil {
			return err
		}
		for i, r := range recs {
			at := page[i][:8]
			for len(pending) > 0 && timeKey(pending[0].LastUpdated) >= at {
				if !fn(storecodec.CloneRecord(pending[0])) {
					return nil
				}
				pending = pending[1:]
			}
			if !fn(r) {
				return nil
			}
		}
		if len(page) < pageSize {
			break
		}
		hi = "(" + page[len(page)-1]
	}
	for _, r := range pending {
		if !fn(storecodec.CloneRecord(r)) {
			return nil
		}
	}
	return nil
}

// loadHistoryPage fetches the versions a page of history rows points at, in one
// pipelined round trip.
func (t *tx) loadHistoryPage(typ string, page []string) ([]*fhir.Record, error) {
	type ref struct {
		typ, id string
		version int64
	}
	refs := make([]ref, len(page))
	cmds := make([]*goredis.StringCmd, len(page))
	_, err := t.s.rdb.Pipelined(t.ctx, func(p goredis.Pipeliner) error {
		for i, m := range page {
			raw, err := parseHistMember(m)
			if err != nil {
				return err
			}
			name, version, err := storecodec.SplitVersionRef(raw)
			if err != nil {
				return err
			}
			r := ref{typ: typ, id: name, version: version}
			if typ == "" {
				if r.typ, r.id, err = storecodec.SplitResourceKey(name); err != nil {
					return err
				}
			}
			refs[i] = r
			cmds[i] = p.HGet(t.ctx, t.s.keys.versions(r.typ, r.id), versionField(r.version))
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	out := make([]*fhir.Record, len(page))
	for i, c := range cmds {
		v, err := c.Bytes()
		if err != nil {
			return nil, fmt.Errorf("redis store: history points at %s/%s version %d: %w", refs[i].typ, refs[i].id, refs[i].version, err)
		}
		if out[i], err = storecodec.DecodeRecord(refs[i].typ, refs[i].id, refs[i].version, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}
