package bolt

import (
	"bytes"
	"encoding/binary"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir/storecodec"
)

// Format 3 keeps the ids of one index key in blocks (posting lists): most rows of a
// usual resource repeat a key that thousands of others have too (a status, a
// category, a code, a unit), and a row per (key, id) cost about 100 bytes of a page
// for 17 bytes of id. A row of pidx is now a block:
//
//	ordinal esc(key) 0 1 idenc(first id) → the block's other ids, in id order, each
//	                                        as 1 + 16 bytes (a UUID) or 0 uvarint(len) id
//
// A block of one id has an empty value, so a row of format 2 is a block as it is and
// needs no migration. Blocks of a key are in id order and never overlap: an id goes
// to the block with the greatest first id below it. A block grows up to maxBlock
// bytes of value; a block that would grow past it splits, by halves, or, for an id
// after all of its own (the common case: the gateway's ids are UUIDv7, in time
// order), by leaving it full and starting a new block at the id. Reads (ScanIndex)
// see the same (key, id) pairs in the same order as with one row each.

// maxBlock bounds the value of a block: about 30 UUIDs, so that a block takes a
// fraction of a page and an update rewrites little.
const maxBlock = 512

// blockIDs decodes a block's value into ids in the key form (idenc, appendID).
func blockIDs(v []byte) ([][]byte, error) {
	var out [][]byte
	for len(v) > 0 {
		enc, rest, err := nextBlockID(v)
		if err != nil {
			return nil, err
		}
		out = append(out, enc)
		v = rest
	}
	return out, nil
}

// nextBlockID splits the first id (key form, fresh memory for a text id, else a
// capped slice of v) off a block's value.
func nextBlockID(v []byte) (enc, rest []byte, err error) {
	switch v[0] {
	case 1:
		if len(v) < 17 {
			return nil, nil, errCorrupt
		}
		return v[:17:17], v[17:], nil
	case 0:
		n, k := binary.Uvarint(v[1:])
		if k <= 0 || n == 0 || uint64(len(v)-1-k) < n {
			return nil, nil, errCorrupt
		}
		return append([]byte{0}, v[1+k:1+k+int(n)]...), v[1+k+int(n):], nil
	}
	return nil, nil, errCorrupt
}

// appendBlockID appends one id (key form) to a block's value.
func appendBlockID(dst, enc []byte) []byte {
	if enc[0] == 1 {
		return append(dst, enc...)
	}
	dst = binary.AppendUvarint(append(dst, 0), uint64(len(enc)-1))
	return append(dst, enc[1:]...)
}

// encodeBlock is the value of a block holding ids (key form, sorted), without the
// first, which is in the key.
func encodeBlock(ids [][]byte) []byte {
	var v []byte
	for _, e := range ids {
		v = appendBlockID(v, e)
	}
	return v
}

// blockOf finds the block of kp (ordinal, escaped key, IndexKeyEnd) where enc
// belongs: the block starting at enc, else the last one starting below it. It returns
// copies of the block's key and its ids (first included), or nil when kp has no block
// below enc.
func blockOf(idx *bbolt.Bucket, kp, enc []byte) (key []byte, ids [][]byte, err error) {
	c := idx.Cursor()
	target := append(bytes.Clone(kp), enc...)
	k, v := c.Seek(target)
	switch {
	case k == nil:
		k, v = c.Last()
	case !bytes.Equal(k, target):
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, kp) || len(k) == len(kp) {
		return nil, nil, nil
	}
	rest, err := blockIDs(v)
	if err != nil {
		return nil, nil, err
	}
	key = bytes.Clone(k)
	ids = append([][]byte{key[len(kp):]}, rest...)
	for i := 1; i < len(ids); i++ {
		ids[i] = bytes.Clone(ids[i])
	}
	return key, ids, nil
}

// putBlock writes a block of kp holding ids (sorted, at least one).
func putBlock(idx *bbolt.Bucket, kp []byte, ids [][]byte) error {
	return idx.Put(append(bytes.Clone(kp), ids[0]...), encodeBlock(ids[1:]))
}

// lastBlocks remembers, for one transaction, the last block of the keys it added to
// (by key prefix, pidxKeyPrefix): the next id of such a key, usually after all of
// them (UUIDv7), is appended without searching the tree again. Every other change to
// a key's blocks forgets it. Nil remembers nothing.
type lastBlocks map[string]*lastBlock

// lastBlock is the last block of a key: its row key and value (both owned here, never
// handed to bbolt again) and its greatest id.
type lastBlock struct{ key, value, lastID []byte }

// pendingAdd is an index entry waiting to be added: its key prefix (pidxKeyPrefix)
// and its id (key form, appendID).
type pendingAdd struct{ kp, enc []byte }

// newPendingAdd is the entry (key, id) of the parameter ord, to add.
func newPendingAdd(ord, key []byte, id string) pendingAdd {
	return pendingAdd{kp: pidxKeyPrefix(ord, key), enc: appendID(nil, id)}
}

// flushIndex adds the pending entries whose key prefix starts with prefix (all of
// them for nil), in key order. A read of one parameter (a conditional match inside a
// transaction) flushes that parameter only, so the rest stays in one sorted run.
func (t *tx) flushIndex(prefix []byte) error {
	if len(t.pending) == 0 {
		return nil
	}
	due := t.pending
	if prefix != nil {
		due, t.pending = splitPending(t.pending, prefix)
		if len(due) == 0 {
			return nil
		}
	} else {
		t.pending = nil
	}
	slices.SortFunc(due, func(a, b pendingAdd) int {
		if c := bytes.Compare(a.kp, b.kp); c != 0 {
			return c
		}
		return bytes.Compare(a.enc, b.enc)
	})
	newest, err := t.writeGeneration()
	if err != nil {
		return err
	}
	idx, err := t.indexBucket(newest)
	if err != nil {
		return err
	}
	last := t.lastBlocks()
	for i, p := range due {
		if i > 0 && bytes.Equal(p.kp, due[i-1].kp) && bytes.Equal(p.enc, due[i-1].enc) {
			continue // added twice in this transaction
		}
		if err := indexAdd(idx, last, p.kp, p.enc); err != nil {
			return err
		}
	}
	return nil
}

// splitPending separates the entries whose key prefix starts with prefix (due) from
// the others (kept, in their order, in pending's memory).
func splitPending(pending []pendingAdd, prefix []byte) (due, kept []pendingAdd) {
	kept = pending[:0]
	for _, p := range pending {
		if bytes.HasPrefix(p.kp, prefix) {
			due = append(due, p)
		} else {
			kept = append(kept, p)
		}
	}
	return due, kept
}

// indexAdd adds the entry enc (an id in key form) under the key prefix kp.
func indexAdd(idx *bbolt.Bucket, last lastBlocks, kp, enc []byte) error {
	if lb := last[string(kp)]; lb != nil && bytes.Compare(enc, lb.lastID) > 0 {
		return appendLast(idx, last, kp, lb.key, lb.value, enc)
	}
	delete(last, string(kp)) // changed below otherwise
	c := idx.Cursor()
	target := append(bytes.Clone(kp), enc...)
	nk, nv := c.Seek(target) // the key's next block, if it has one
	var k, v []byte
	switch {
	case nk != nil && bytes.Equal(nk, target):
		return nil // the first id of a block
	case nk == nil:
		k, v = c.Last()
	default:
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, kp) || len(k) == len(kp) { // below every block of the key
		return addFirst(idx, kp, enc, nk, nv)
	}
	// The usual case without decoding the block: find where enc goes in the value.
	at, found, err := blockPosition(v, enc)
	if err != nil || found {
		return err
	}
	if at == len(v) {
		if n, _ := c.Next(); n == nil || !bytes.HasPrefix(n, kp) { // k is the key's last block
			return appendLast(idx, last, kp, bytes.Clone(k), bytes.Clone(v), enc)
		}
	}
	grown := make([]byte, 0, len(v)+len(enc)+binary.MaxVarintLen64)
	grown = appendBlockID(append(grown, v[:at]...), enc)
	grown = append(grown, v[at:]...)
	if len(grown) <= maxBlock {
		return idx.Put(bytes.Clone(k), grown)
	}
	if at == len(v) { // after all of the block's ids: a new block starts at it
		return idx.Put(target, nil)
	}
	bk := bytes.Clone(k)
	ids, err := blockIDs(grown)
	if err != nil {
		return err
	}
	ids = append([][]byte{bk[len(kp):]}, ids...)
	half := len(ids) / 2
	if err := putBlock(idx, kp, ids[:half]); err != nil {
		return err
	}
	return putBlock(idx, kp, ids[half:])
}

// blockPosition returns the offset in a block's value where enc (greater than the
// block's first id) belongs, and whether it is there already.
func blockPosition(v, enc []byte) (at int, found bool, err error) {
	for at < len(v) {
		var id []byte
		next := at
		switch v[at] {
		case 1:
			if len(v)-at < 17 {
				return 0, false, errCorrupt
			}
			id, next = v[at:at+17], at+17
		case 0:
			n, k := binary.Uvarint(v[at+1:])
			if k <= 0 || n == 0 || uint64(len(v)-at-1-k) < n {
				return 0, false, errCorrupt
			}
			next = at + 1 + k + int(n)
			if c := bytes.Compare(enc[:1], v[at:at+1]); c != 0 {
				if c < 0 {
					return at, false, nil
				}
				at = next
				continue
			}
			id = append([]byte{0}, v[at+1+k:next]...)
		default:
			return 0, false, errCorrupt
		}
		switch c := bytes.Compare(enc, id); {
		case c == 0:
			return at, true, nil
		case c < 0:
			return at, false, nil
		}
		at = next
	}
	return at, false, nil
}

// appendLast adds enc after every id of the key's last block (row key bk, value v):
// to it while it has room, else as a new last block, and remembers the result.
func appendLast(idx *bbolt.Bucket, last lastBlocks, kp, bk, v, enc []byte) error {
	grown := appendBlockID(append(make([]byte, 0, len(v)+len(enc)+binary.MaxVarintLen64), v...), enc)
	if len(grown) > maxBlock {
		bk, grown = append(bytes.Clone(kp), enc...), nil
	}
	if err := idx.Put(bytes.Clone(bk), bytes.Clone(grown)); err != nil { // bbolt keeps what it is given
		return err
	}
	if last != nil {
		last[string(kp)] = &lastBlock{key: bk, value: grown, lastID: enc}
	}
	return nil
}

// addFirst adds enc, below every id of kp, as the first id of kp's first block (row
// k, value v, found by the caller: any row after enc), or of a block of its own when
// there is none or it is full.
func addFirst(idx *bbolt.Bucket, kp, enc, k, v []byte) error {
	if k == nil || !bytes.HasPrefix(k, kp) || len(v)+len(k)-len(kp)+1 > maxBlock {
		return idx.Put(append(kp, enc...), nil)
	}
	next := bytes.Clone(k)
	v = append(appendBlockID(nil, next[len(kp):]), v...) // copied: v is valid until the bucket changes
	if err := idx.Delete(next); err != nil {
		return err
	}
	return idx.Put(append(kp, enc...), v)
}

// indexRemove removes the entry (key, id) of the parameter ord, if present.
func indexRemove(idx *bbolt.Bucket, last lastBlocks, ord, key []byte, id string) error {
	kp := pidxKeyPrefix(ord, key)
	delete(last, string(kp))
	enc := appendID(nil, id)
	bk, ids, err := blockOf(idx, kp, enc)
	if err != nil || bk == nil {
		return err
	}
	i, found := slices.BinarySearchFunc(ids, enc, bytes.Compare)
	if !found {
		return nil
	}
	if i > 0 {
		return idx.Put(bk, encodeBlock(slices.Delete(ids, i, i+1)[1:]))
	}
	// the block's first id: the block moves to its next one
	if err := idx.Delete(bk); err != nil {
		return err
	}
	if len(ids) == 1 {
		return nil
	}
	return putBlock(idx, kp, ids[1:])
}

// pidxKeyPrefix is the part of a block's key before its first id.
func pidxKeyPrefix(ord, key []byte) []byte {
	return append(storecodec.AppendIndexKey(append(make([]byte, 0, 2+len(key)+22), ord...), key), storecodec.IndexKeyEnd...)
}
