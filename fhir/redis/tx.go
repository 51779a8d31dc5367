package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// errReadOnly is returned by writes in a View.
var errReadOnly = errors.New("redis store: write in a read-only transaction")

// pageSize is how many rows a scan fetches per round trip.
const pageSize = 256

// tx is a fhir.Tx: reads go to Redis, overlaid with the buffered writes w (nil in a
// View).
type tx struct {
	ctx context.Context
	s   *Store
	w   *writes
}

// state returns the current version state of typ/id (version 0: never existed).
func (t *tx) state(typ, id string) (storecodec.CurrentState, error) {
	if t.w != nil {
		if r, ok := t.w.res[resKey(typ, id)]; ok {
			return r.cur, nil
		}
	}
	return t.redisState(typ, id)
}

func (t *tx) redisState(typ, id string) (storecodec.CurrentState, error) {
	v, err := t.s.rdb.HGet(t.ctx, t.s.keys.cur(), resKey(typ, id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return storecodec.CurrentState{}, nil
	}
	if err != nil {
		return storecodec.CurrentState{}, err
	}
	return storecodec.ParseCurrentState(v)
}

// Current returns the latest version of typ/id, tombstone included.
func (t *tx) Current(typ, id string) (*fhir.Record, error) {
	st, err := t.state(typ, id)
	if err != nil {
		return nil, err
	}
	if st.Version == 0 {
		return nil, fhir.ErrNotFound
	}
	return t.Version(typ, id, st.Version)
}

// Version returns one version of typ/id.
func (t *tx) Version(typ, id string, version int64) (*fhir.Record, error) {
	if version < 1 {
		return nil, fhir.ErrNotFound
	}
	if t.w != nil {
		if r, ok := t.w.vers[resKey(typ, id)+"\x00"+versionField(version)]; ok {
			return storecodec.CloneRecord(r), nil
		}
	}
	v, err := t.s.rdb.HGet(t.ctx, t.s.keys.versions(typ, id), versionField(version)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fhir.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return storecodec.DecodeRecord(typ, id, version, v)
}

// Put buffers rec as the next version of its resource, with its new index entries.
func (t *tx) Put(rec *fhir.Record, index []fhir.IndexEntry) error {
	if t.w == nil {
		return errReadOnly
	}
	entries, err := storecodec.CheckPut(rec, index)
	if err != nil {
		return err
	}
	rk := resKey(rec.Type, rec.ID)
	r, ok := t.w.res[rk]
	if !ok {
		orig, err := t.redisState(rec.Type, rec.ID)
		if err != nil {
			return err
		}
		origEntries, err := t.redisIndex(rec.Type, rec.ID)
		if err != nil {
			return err
		}
		r = &touched{typ: rec.Type, id: rec.ID, orig: orig, origEntries: origEntries, cur: orig}
	}
	if err := storecodec.CheckNextVersion(rec, r.cur.Version); err != nil {
		return err
	}
	t.w.res[rk] = r
	r.cur = storecodec.CurrentState{Version: rec.Version, Deleted: rec.Deleted}
	r.entries = entries
	c := storecodec.CloneRecord(rec)
	if c.Deleted {
		c.Body = nil
	} else if c.Body == nil {
		c.Body = []byte{}
	}
	t.w.log = append(t.w.log, c)
	t.w.vers[rk+"\x00"+versionField(rec.Version)] = c
	return nil
}

// Index returns the current index entries of typ/id, sorted by (param, key).
func (t *tx) Index(typ, id string) ([]fhir.IndexEntry, error) {
	if t.w != nil {
		if r, ok := t.w.res[resKey(typ, id)]; ok {
			return storecodec.CloneEntries(r.entries), nil
		}
	}
	return t.redisIndex(typ, id)
}

func (t *tx) redisIndex(typ, id string) ([]fhir.IndexEntry, error) {
	v, err := t.s.rdb.HGet(t.ctx, t.s.keys.resIndex(), resKey(typ, id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return storecodec.DecodeEntries(v)
}

// touchedOf returns the resources of typ written in this transaction, by id.
func (t *tx) touchedOf(typ string) map[string]*touched {
	out := map[string]*touched{}
	if t.w != nil {
		for _, r := range t.w.res {
			if r.typ == typ {
				out[r.id] = r
			}
		}
	}
	return out
}

// ScanIndex walks the entries of param on typ with from <= key < to, in (key, id)
// order, merging Redis pages with the entries buffered in this transaction.
func (t *tx) ScanIndex(typ, param string, from, to []byte, fn func(key []byte, id string) bool) error {
	lo, hi := "-", "+"
	if from != nil {
		lo = "[" + escKey(from)
	}
	if to != nil {
		hi = "(" + escKey(to)
	}
	touched := t.touchedOf(typ)
	var pending []string // members of buffered entries in range, sorted
	for _, r := range touched {
		for _, e := range r.entries {
			m := indexMember(e.Key, r.id)
			if e.Param == param && (from == nil || m >= escKey(from)) && (to == nil || m < escKey(to)) {
				pending = append(pending, m)
			}
		}
	}
	slices.Sort(pending)
	emit := func(m string) (bool, error) {
		key, id, err := storecodec.ParseIndexMember(m)
		if err != nil {
			return false, err
		}
		return fn(key, id), nil
	}
	return t.scanLex(t.s.keys.index(typ, param), lo, hi, pending, func(m string) bool {
		_, id, err := storecodec.ParseIndexMember(m)
		_, mine := touched[id]
		return err == nil && mine
	}, emit)
}

// scanLex walks the members of a sorted set between lo and hi in pages, skipping
// those skip reports (superseded by the transaction) and merging in the sorted
// pending members, until emit returns false.
func (t *tx) scanLex(key, lo, hi string, pending []string, skip func(string) bool, emit func(string) (bool, error)) error {
	for {
		page, err := t.s.rdb.ZRangeArgs(t.ctx, goredis.ZRangeArgs{Key: key, Start: lo, Stop: hi, ByLex: true, Count: pageSize}).Result()
		if err != nil {
			return err
		}
		for _, m := range page {
			if skip(m) {
				continue
			}
			for len(pending) > 0 && pending[0] < m {
				if more, err := emit(pending[0]); err != nil || !more {
					return err
				}
				pending = pending[1:]
			}
			if more, err := emit(m); err != nil || !more {
				return err
			}
		}
		if len(page) < pageSize {
			break
		}
		lo = "(" + page[len(page)-1]
	}
	for _, m := range pending {
		if more, err := emit(m); err != nil || !more {
			return err
		}
	}
	return nil
}

// ScanType walks the live resources of typ in id order.
func (t *tx) ScanType(typ string, fn func(*fhir.Record) bool) error {
	touched := t.touchedOf(typ)
	var pending []string
	for id, r := range touched {
		if r.cur.Live() {
			pending = append(pending, id)
		}
	}
	slices.Sort(pending)
	emit := func(id string) (bool, error) {
		r, err := t.Current(typ, id)
		if err != nil {
			return false, fmt.Errorf("redis store: %s/%s listed as live: %w", typ, id, err)
		}
		if r.Deleted { // deleted since the list was read: cannot happen under a lease
			return true, nil
		}
		return fn(r), nil
	}
	return t.scanLex(t.s.keys.live(typ), "-", "+", pending, func(id string) bool {
		_, mine := touched[id]
		return mine
	}, emit)
}

// Count returns the number of live resources of typ.
func (t *tx) Count(typ string) (int, error) {
	n, err := t.s.rdb.ZCard(t.ctx, t.s.keys.live(typ)).Result()
	if err != nil {
		return 0, err
	}
	for _, r := range t.touchedOf(typ) {
		switch {
		case r.cur.Live() && !r.orig.Live():
			n++
		case !r.cur.Live() && r.orig.Live():
			n--
		}
	}
	return int(n), nil
}

// GetAux returns the value of key in ns, nil when there is none.
func (t *tx) GetAux(ns, key string) ([]byte, error) {
	if t.w != nil {
		if v, ok := t.w.aux[auxKey{ns, key}]; ok {
			if v.deleted {
				return nil, nil
			}
			return append([]byte{}, v.value...), nil
		}
	}
	v, err := t.s.rdb.HGet(t.ctx, t.s.keys.aux(ns), key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutAux buffers setting (or, with a nil value, deleting) key in ns.
func (t *tx) PutAux(ns, key string, value []byte) error {
	if t.w == nil {
		return errReadOnly
	}
	if err := storecodec.CheckNamespace(ns); err != nil {
		return err
	}
	if value == nil {
		t.w.aux[auxKey{ns, key}] = auxValue{deleted: true}
	} else {
		t.w.aux[auxKey{ns, key}] = auxValue{value: append([]byte{}, value...)}
	}
	return nil
}
