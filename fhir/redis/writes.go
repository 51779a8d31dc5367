package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
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
	orig        storecodec.CurrentState
	origEntries []fhir.IndexEntry
	cur         storecodec.CurrentState
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
		p.HSet(ctx, k.versions(r.Type, r.ID), versionField(r.Version), storecodec.EncodeRecord(r))
		p.ZAdd(ctx, k.hist(), goredis.Z{Member: histMember(r.LastUpdated, seq, r.Type+"\x00"+r.ID, r.Version)})
		p.ZAdd(ctx, k.typeHist(r.Type), goredis.Z{Member: histMember(r.LastUpdated, seq, r.ID, r.Version)})
	}
	for rk, t := range w.res {
		p.HSet(ctx, k.cur(), rk, t.cur.Encode())
		if t.cur.Live() {
			p.ZAdd(ctx, k.live(t.typ), goredis.Z{Member: t.id})
		} else if t.orig.Live() {
			p.ZRem(ctx, k.live(t.typ), t.id)
		}
		for _, e := range t.origEntries {
			p.ZRem(ctx, k.index(t.typ, e.Param), indexMember(e.Key, t.id))
		}
		for _, e := range t.entries {
			p.ZAdd(ctx, k.index(t.typ, e.Param), goredis.Z{Member: indexMember(e.Key, t.id)})
		}
		if len(t.entries) > 0 {
			p.HSet(ctx, k.resIndex(), rk, storecodec.EncodeEntries(t.entries))
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
