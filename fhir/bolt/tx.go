package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// errReadOnly is returned by writes in a View.
var errReadOnly = errors.New("bolt: write in a read-only transaction")

// tx is a fhir.Tx over one bbolt transaction.
type tx struct {
	btx  *bbolt.Tx
	last lastBlocks // of this fn's writes only (postings.go)
	// pending are the index entries added by this fn's Puts and not yet in pidx:
	// they are written in key order (flushIndex) before anything reads pidx and at
	// the end of fn. A transaction of a few hundred resources adds thousands of
	// entries to keys all over the tree; in key order, each insertion walks the
	// pages the previous one just walked, instead of a cold path through a tree
	// of millions of rows.
	pending []pendingAdd
	// gens is the index generations' state (generations.go), read on first use;
	// genSize is the store's GenerationSize (0: never start a generation).
	gens    *generations
	genSize int
	// genBuckets are the buckets of the generations, oldest first, found on first
	// use (a scan of a commit of many resources runs often), and scanSets the
	// cursors on them that no scan is using (generations.go).
	genBuckets []*bbolt.Bucket
	scanSets   []*scanSet
}

// lastBlocks returns the transaction's memory of last blocks, made on first use.
func (t *tx) lastBlocks() lastBlocks {
	if t.last == nil {
		t.last = lastBlocks{}
	}
	return t.last
}

func (t *tx) bucket(name []byte) *bbolt.Bucket {
	b := t.btx.Bucket(name)
	if t.btx.Writable() {
		b.FillPercent = fillPercent(name)
	}
	return b
}

// fillPercent is how full bbolt fills the pages it splits, by bucket. Its default
// (half) suits keys inserted anywhere; the history rows are appended in time order,
// so their pages are filled whole, and the other buckets, written in random key order
// (ids), are filled to 90 %: a page split later is split again at 90 %, and the file
// holds about a third fewer half-empty pages than at bbolt's default.
func fillPercent(name []byte) float64 {
	switch string(name) {
	case "hist", "thist":
		return 1.0
	default:
		return 0.9
	}
}

// Current returns the latest version of typ/id, tombstone included.
func (t *tx) Current(typ, id string) (*fhir.Record, error) {
	v := t.bucket(bucketCur).Get(resKey(typ, id))
	if v == nil {
		return nil, fhir.ErrNotFound
	}
	st, err := storecodec.ParseCurrentState(v)
	if err != nil {
		return nil, err
	}
	return t.Version(typ, id, st.Version)
}

// Version returns one version of typ/id.
func (t *tx) Version(typ, id string, version int64) (*fhir.Record, error) {
	if version < 1 {
		return nil, fhir.ErrNotFound
	}
	v := t.bucket(bucketVer).Get(verKey(typ, id, version))
	if v == nil {
		return nil, fhir.ErrNotFound
	}
	return decodeStored(typ, id, version, v)
}

// History walks versions newest first: by version for one resource, by time (then
// commit order) for a type or the system.
func (t *tx) History(f fhir.HistoryFilter, fn func(*fhir.Record) bool) error {
	if f.ID != "" {
		return t.instanceHistory(f, fn)
	}
	bucket, prefix := bucketHist, []byte(nil)
	if f.Type != "" {
		bucket, prefix = bucketTHist, append([]byte(f.Type), 0)
	}
	c := t.bucket(bucket).Cursor()
	var k, v []byte
	if f.At.IsZero() {
		k, v = lastWithPrefix(c, prefix)
	} else {
		k, v = before(c, storecodec.AppendTimeKey(bytes.Clone(prefix), f.At))
	}
	since := storecodec.AppendTimeKey(nil, f.Since)
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		if len(k) < len(prefix)+storecodec.HistoryStampLen {
			return errCorrupt
		}
		if !f.Since.IsZero() && bytes.Compare(k[len(prefix):len(prefix)+8], since) < 0 {
			return nil
		}
		ref := v
		if f.Type != "" { // thist rows hold id 0 version; put the type back
			ref = append(append([]byte(f.Type), 0), v...)
		}
		typ, id, version, err := parseVerKey(ref)
		if err != nil {
			return err
		}
		r, err := t.Version(typ, id, version)
		if err != nil {
			return fmt.Errorf("bolt: history points at missing %s/%s version %d: %w", typ, id, version, err)
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}

// instanceHistory walks the versions of one resource, newest first.
func (t *tx) instanceHistory(f fhir.HistoryFilter, fn func(*fhir.Record) bool) error {
	prefix := append(resKey(f.Type, f.ID), 0)
	c := t.bucket(bucketVer).Cursor()
	for k, v := lastWithPrefix(c, prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		if len(k) != len(prefix)+8 {
			return errCorrupt
		}
		r, err := decodeStored(f.Type, f.ID, int64(binary.BigEndian.Uint64(k[len(prefix):])), v)
		if err != nil {
			return err
		}
		// Versions are usually in time order, but a clock step back must not hide any.
		if !storecodec.InHistoryWindow(f, r.LastUpdated) {
			continue
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}

// lastWithPrefix positions c on the last key starting with prefix (or the last key).
func lastWithPrefix(c *bbolt.Cursor, prefix []byte) ([]byte, []byte) {
	end := prefixEnd(prefix)
	if end == nil {
		return c.Last()
	}
	return before(c, end)
}

// before positions c on the last key lower than bound.
func before(c *bbolt.Cursor, bound []byte) ([]byte, []byte) {
	if k, _ := c.Seek(bound); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// Put stores rec as the next version of its resource and replaces its index entries.
func (t *tx) Put(rec *fhir.Record, index []fhir.IndexEntry) error {
	if !t.btx.Writable() {
		return errReadOnly
	}
	entries, err := storecodec.CheckPut(rec, index)
	if err != nil {
		return err
	}
	rk := resKey(rec.Type, rec.ID)
	cur := t.bucket(bucketCur)
	var prev storecodec.CurrentState // version 0: new resource
	if v := cur.Get(rk); v != nil {
		if prev, err = storecodec.ParseCurrentState(v); err != nil {
			return err
		}
	}
	if err := storecodec.CheckNextVersion(rec, prev.Version); err != nil {
		return err
	}
	if err := t.bucket(bucketVer).Put(verKey(rec.Type, rec.ID, rec.Version), encodeStored(rec)); err != nil {
		return err
	}
	if err := cur.Put(rk, storecodec.CurrentState{Version: rec.Version, Deleted: rec.Deleted}.Encode()); err != nil {
		return err
	}
	if err := t.appendHistory(rec); err != nil {
		return err
	}
	if err := t.addCount(rec.Type, prev.Live(), !rec.Deleted); err != nil {
		return err
	}
	return t.replaceIndex(rec.Type, rec.ID, entries)
}

// appendHistory adds rec to the system and type history, ordered by time then by a
// sequence number that only grows, so that equal timestamps keep commit order.
func (t *tx) appendHistory(rec *fhir.Record) error {
	hist := t.bucket(bucketHist)
	seq, err := hist.NextSequence()
	if err != nil {
		return err
	}
	if err := hist.Put(storecodec.AppendHistoryStamp(nil, rec.LastUpdated, seq), verKey(rec.Type, rec.ID, rec.Version)); err != nil {
		return err
	}
	tk := storecodec.AppendHistoryStamp(append([]byte(rec.Type), 0), rec.LastUpdated, seq)
	return t.bucket(bucketTHist).Put(tk, storecodec.AppendVersionRef(nil, rec.ID, rec.Version))
}

// addCount keeps the live count of typ in step with a resource going from wasLive to
// isLive.
func (t *tx) addCount(typ string, wasLive, isLive bool) error {
	if wasLive == isLive {
		return nil
	}
	b := t.bucket(bucketCount)
	n := t.count(typ)
	if isLive {
		n++
	} else if n > 0 {
		n--
	}
	return b.Put([]byte(typ), binary.BigEndian.AppendUint64(nil, n))
}

func (t *tx) count(typ string) uint64 {
	v := t.bucket(bucketCount).Get([]byte(typ))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// replaceIndex replaces the resource's previous index entries by entries: only those
// that changed are removed or added (an update usually keeps most of its entries),
// when they are in the generation that takes new entries; from an older generation,
// they all move to it (generations.go).
func (t *tx) replaceIndex(typ, id string, entries []fhir.IndexEntry) error {
	ridx := t.bucket(bucketRIdx)
	newest, err := t.writeGeneration()
	if err != nil {
		return err
	}
	rk := resKey(typ, id)
	var list []byte
	var ords []ordinalEntry
	if len(entries) > 0 {
		if list, ords, err = encodeEntryList(t.btx, typ, entries); err != nil {
			return err
		}
	}
	kept := map[string]bool{}
	inNewest := false // the resource's entries are counted in the newest generation
	if stored := ridx.Get(rk); stored != nil {
		gen, old, err := splitEntryList(stored)
		if err != nil {
			return err
		}
		if kept, err = t.removeEntries(typ, id, gen, old, ords, gen == newest); err != nil {
			return err
		}
		inNewest = gen == newest
	}
	if len(entries) == 0 {
		return ridx.Delete(rk)
	}
	for _, e := range ords {
		if !kept[entryID(e)] {
			t.pending = append(t.pending, newPendingAdd(e.ord, e.key, id))
		}
	}
	if !inNewest {
		t.gens.took()
	}
	return ridx.Put(rk, storeEntryList(newest, packList(list)))
}

// removeEntries removes from generation gen the entries of the stored list old that
// next does not keep (all of them unless keep), and returns those kept.
func (t *tx) removeEntries(typ, id string, gen uint64, old []byte, next []ordinalEntry, keep bool) (map[string]bool, error) {
	prev, err := readEntryList(t.btx, typ, old) // copies: the rows change below
	if err != nil {
		return nil, err
	}
	idx, err := t.indexBucket(gen)
	if err != nil {
		return nil, err
	}
	wanted := make(map[string]bool, len(next))
	if keep {
		for _, e := range next {
			wanted[entryID(e)] = true
		}
	}
	kept := map[string]bool{}
	for _, e := range prev {
		if wanted[entryID(e)] {
			kept[entryID(e)] = true
			continue
		}
		if err := t.flushIndex(pidxKeyPrefix(e.ord, e.key)); err != nil { // the removal reads the key's blocks
			return nil, err
		}
		if err := indexRemove(idx, t.last, e.ord, e.key, id); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// entryID identifies an entry (ordinal and key) in a map.
func entryID(e ordinalEntry) string { return string(e.ord) + string(e.key) }

// ScanIndex walks the index entries of param on typ with from <= key < to, in key
// order, then id order, across the index's generations: each block (postings.go)
// gives its ids in turn.
func (t *tx) ScanIndex(typ, param string, from, to []byte, fn func(key []byte, id string) bool) error {
	prefix, ok := paramOrdinal(t.btx, typ, param)
	if !ok {
		return nil // no row of param was ever written
	}
	prefix = bytes.Clone(prefix)
	if err := t.flushIndex(prefix); err != nil {
		return err
	}
	return t.scanGenerations(prefix, from, to, fn)
}

// Index returns the current index entries of typ/id, sorted by (param, key).
func (t *tx) Index(typ, id string) ([]fhir.IndexEntry, error) {
	stored := t.bucket(bucketRIdx).Get(resKey(typ, id))
	if stored == nil {
		return nil, nil
	}
	_, v, err := splitEntryList(stored)
	if err != nil {
		return nil, err
	}
	if !isCompactList(v) {
		return storecodec.DecodeEntries(v)
	}
	list, err := decodeEntryList(v)
	if err != nil {
		return nil, err
	}
	out := make([]fhir.IndexEntry, len(list))
	names := map[string]string{}
	for i, e := range list {
		name, ok := names[string(e.ord)]
		if !ok {
			if name, err = paramName(t.btx, e.ord); err != nil {
				return nil, err
			}
			names[string(e.ord)] = name
		}
		out[i] = fhir.IndexEntry{Param: name, Key: e.key}
	}
	return out, nil
}

// ScanType walks the live resources of typ in id order.
func (t *tx) ScanType(typ string, fn func(*fhir.Record) bool) error {
	prefix := append([]byte(typ), 0)
	c := t.bucket(bucketCur).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		st, err := storecodec.ParseCurrentState(v)
		if err != nil {
			return err
		}
		if st.Deleted {
			continue
		}
		r, err := t.Version(typ, string(k[len(prefix):]), st.Version)
		if err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}

// Count returns the number of live resources of typ.
func (t *tx) Count(typ string) (int, error) { return int(t.count(typ)), nil }

// GetAux returns a copy of the value of key in ns, nil when there is none.
func (t *tx) GetAux(ns, key string) ([]byte, error) {
	k := join(ns, key)
	gk, v := t.bucket(bucketAux).Cursor().Seek(k)
	if !bytes.Equal(gk, k) {
		return nil, nil
	}
	return append([]byte{}, v...), nil
}

// PutAux sets (or, with a nil value, deletes) key in ns.
func (t *tx) PutAux(ns, key string, value []byte) error {
	if !t.btx.Writable() {
		return errReadOnly
	}
	if err := storecodec.CheckNamespace(ns); err != nil {
		return err
	}
	if value == nil {
		return t.bucket(bucketAux).Delete(join(ns, key))
	}
	return t.bucket(bucketAux).Put(join(ns, key), bytes.Clone(value))
}
