package redis

import (
	"bytes"
	"cmp"
	"context"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
)

// writes is what an Update has buffered: the versions it put, in order, the final
// state of every resource it touched, and its aux changes.
type writes struct {
	log  []*fhir.Record
	vers map[string]*fhir.Record // resKey 0 version(8B) → version put in this tx
	res  map[string]*touched     // resKey → resource put in this tx
	aux  map[auxKey]auxValue
}

// touched is a resource written in the transaction: as it was in Redis before, and
// as it will be after the commit.
type touched struct {
	typ, id     string
	orig        curState
	origEntries []fhir.IndexEntry
	cur         curState
	entries     []fhir.IndexEntry
}

type auxKey struct{ ns, key string }

type auxValue struct {
	value   []byte
	deleted bool
}

func newWrites() *writes {
	return &writes{vers: map[string]*fhir.Record{}, res: map[string]*touched{}, aux: map[auxKey]auxValue{}}
}

func (w *writes) empty() bool { return len(w.log) == 0 && len(w.aux) == 0 }

// resKey names a resource in the cur and ri hashes.
func resKey(typ, id string) string { return typ + "\x00" + id }

// apply queues the buffered writes on p (inside MULTI). History rows get sequence
// numbers first, first+1… in put order.
func (w *writes) apply(ctx context.Context, p goredis.Pipeliner, k keys, first uint64) {
	for i, r := range w.log {
		seq := first + uint64(i)
		p.HSet(ctx, k.versions(r.Type, r.ID), versionField(r.Version), encodeRecord(r))
		p.ZAdd(ctx, k.hist(), goredis.Z{Member: histMember(r.LastUpdated, seq, r.Type+"\x00"+verRef(r.ID, r.Version))})
		p.ZAdd(ctx, k.typeHist(r.Type), goredis.Z{Member: histMember(r.LastUpdated, seq, verRef(r.ID, r.Version))})
	}
	for rk, t := range w.res {
		p.HSet(ctx, k.cur(), rk, t.cur.encode())
		if t.cur.live() {
			p.ZAdd(ctx, k.live(t.typ), goredis.Z{Member: t.id})
		} else if t.orig.live() {
			p.ZRem(ctx, k.live(t.typ), t.id)
		}
		for _, e := range t.origEntries {
			p.ZRem(ctx, k.index(t.typ, e.Param), indexMember(e.Key, t.id))
		}
		for _, e := range t.entries {
			p.ZAdd(ctx, k.index(t.typ, e.Param), goredis.Z{Member: indexMember(e.Key, t.id)})
		}
		if len(t.entries) > 0 {
			p.HSet(ctx, k.resIndex(), rk, encodeEntries(t.entries))
		} else if len(t.origEntries) > 0 {
			p.HDel(ctx, k.resIndex(), rk)
		}
	}
	for ak, v := range w.aux {
		if v.deleted {
			p.HDel(ctx, k.aux(ak.ns), ak.key)
		} else {
			p.HSet(ctx, k.aux(ak.ns), ak.key, v.value)
		}
	}
}

// normalize checks index entries and returns them sorted by (param, key), without
// duplicates, in fresh memory.
func normalize(index []fhir.IndexEntry) ([]fhir.IndexEntry, error) {
	out := make([]fhir.IndexEntry, 0, len(index))
	for _, e := range index {
		if err := checkName("search parameter name", e.Param); err != nil {
			return nil, err
		}
		out = append(out, fhir.IndexEntry{Param: e.Param, Key: bytes.Clone(e.Key)})
	}
	cmpEntries := func(a, b fhir.IndexEntry) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), bytes.Compare(a.Key, b.Key))
	}
	slices.SortFunc(out, cmpEntries)
	return slices.CompactFunc(out, func(a, b fhir.IndexEntry) bool { return cmpEntries(a, b) == 0 }), nil
}

// copyRecord returns a record the caller may modify without touching the buffer.
func copyRecord(r *fhir.Record) *fhir.Record {
	c := *r
	if r.Body != nil {
		c.Body = bytes.Clone(r.Body)
	}
	return &c
}

// copyEntries returns entries in fresh memory.
func copyEntries(es []fhir.IndexEntry) []fhir.IndexEntry {
	out := make([]fhir.IndexEntry, len(es))
	for i, e := range es {
		out[i] = fhir.IndexEntry{Param: e.Param, Key: bytes.Clone(e.Key)}
	}
	return out
}
