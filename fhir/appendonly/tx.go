package appendonly

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

var (
	// errReadOnly is returned by writes in a View or a Snapshot.
	errReadOnly = errors.New("appendonly: write in a read-only transaction")
	// errNoAux is returned by GetAux and PutAux: the server keeps its own records in
	// the general store.
	errNoAux = errors.New("appendonly: the append-only store keeps no auxiliary records")
)

// tx is a fhir.Tx over one bbolt transaction. In a write transaction it gathers the
// index entries of every Put into one posting list per (param, key), written by flush.
type tx struct {
	btx  *bbolt.Tx
	typ  string
	post map[string]int // row prefix (param 0 esc(key) 0 1) → index in rows
	rows []posting
	// added counts the Puts, for the live count.
	added   uint64
	scratch []byte
	flushed bool
	// seq numbers this commit (its posting rows and dictionary), taken at the first Put.
	seq uint64
	// ids are this commit's ids in Put order: posting rows list ordinals into them.
	ids []string
	// maxID is the greatest id stored or put (nil until the first Put looks it up).
	maxID []byte
	// ords is Put's scratch list of the rows of one resource's entries.
	ords []int
	// dicts caches the dictionaries read, by commit.
	dicts map[uint64]*dictionary
	// buf is the store's working memory, lent by Update (the only way to a write
	// transaction); nil in a read one.
	buf *writeBuffers
}

// dictionary is what a commit's entries and ids are numbered by: its distinct entries
// (as posting row prefixes) and its ids, each by ordinal.
type dictionary struct {
	entries [][]byte
	ids     [][]byte
}

// posting is one posting row being built: its key without the commit sequence, and
// the ordinals of its ids in the commit (uvarint each), in Put order.
type posting struct {
	key []byte
	ids []byte
}

func (s *Store) newTx(btx *bbolt.Tx) *tx { return &tx{btx: btx, typ: s.typ} }

// Put stores a new resource of the store's type: version 1, live, with a body, under an
// id not used before. Its posting rows are written when the transaction function returns.
func (t *tx) Put(rec *fhir.Record, index []fhir.IndexEntry) error {
	if !t.btx.Writable() {
		return errReadOnly
	}
	if t.flushed {
		return errors.New("appendonly: Put after the transaction function returned")
	}
	// Entries are neither copied nor sorted here (Index sorts them when read): their
	// keys are copied into the posting rows, and a duplicate is dropped below.
	if err := storecodec.CheckNames(rec, index); err != nil {
		return err
	}
	entries := index
	switch {
	case rec.Type != t.typ:
		return fmt.Errorf("appendonly: this store keeps %s resources, not %s", t.typ, rec.Type)
	case rec.Version != 1:
		return fmt.Errorf("appendonly: %s/%s version %d: resources are written once, as version 1", rec.Type, rec.ID, rec.Version)
	case rec.Deleted:
		return fmt.Errorf("appendonly: %s/%s: resources are never deleted", rec.Type, rec.ID)
	case len(rec.Body) == 0:
		return fmt.Errorf("appendonly: %s/%s has no body", rec.Type, rec.ID)
	}
	ev := t.btx.Bucket(bucketEv)
	ev.FillPercent = 1 // ids are time-ordered (UUIDv7): rows are appended, pages never take an insert in the middle, so they are filled whole
	id := []byte(rec.ID)
	// The row is written at once, so this also finds an id put earlier in this
	// transaction. Ids above every stored one (time-ordered ids, the usual case) need
	// no lookup.
	if t.maxID == nil {
		last, _ := ev.Cursor().Last()
		t.maxID = append([]byte{}, last...)
	}
	above := bytes.Compare(id, t.maxID) > 0
	if !above && ev.Get(id) != nil {
		return fmt.Errorf("appendonly: %s/%s already exists and is never changed", rec.Type, rec.ID)
	}
	if t.post == nil {
		seq, err := t.btx.Bucket(bucketPost).NextSequence()
		if err != nil {
			return err
		}
		t.seq, t.post = seq, t.buf.postMap()
	}
	v := encodeEvent(t.buf.values.alloc(eventSize(rec, len(entries))), rec, t.seq)
	t.ords = t.ords[:0] // the rows of this resource's entries, once each
	for _, e := range entries {
		t.scratch = append(storecodec.AppendIndexKey(append(append(t.scratch[:0], e.Param...), 0), e.Key), storecodec.IndexKeyEnd...)
		i, ok := t.post[string(t.scratch)]
		if !ok {
			i = len(t.rows)
			t.post[string(t.scratch)] = i
			t.rows = t.buf.appendRow(t.rows, t.scratch)
		}
		if !slices.Contains(t.ords, i) { // the same entry twice in one resource
			t.ords = append(t.ords, i)
			v = binary.AppendUvarint(v, uint64(i))
		}
	}
	if err := ev.Put(id, v); err != nil {
		return err
	}
	// only now that the event is written: a failed Put leaves no id in any row
	if above {
		t.maxID = append(t.maxID[:0], id...)
	}
	for _, i := range t.ords {
		t.rows[i].ids = binary.AppendUvarint(t.rows[i].ids, uint64(len(t.ids)))
	}
	t.ids = append(t.ids, rec.ID)
	t.added++
	return nil
}

// flush writes the posting rows and the live count of everything put; Update calls it
// once fn has returned nil.
func (t *tx) flush() error {
	t.flushed = true
	if t.added == 0 {
		return nil
	}
	if len(t.rows) > 0 {
		post := t.btx.Bucket(bucketPost)
		seq := t.seq
		// the dictionary first: it lists the rows by ordinal, before they are sorted
		size := binary.MaxVarintLen64
		for _, p := range t.rows {
			size += binary.MaxVarintLen64 + len(p.key)
		}
		for _, id := range t.ids {
			size += binary.MaxVarintLen64 + len(id)
		}
		dict := binary.AppendUvarint(t.buf.values.alloc(size), uint64(len(t.rows)))
		for _, p := range t.rows {
			dict = append(binary.AppendUvarint(dict, uint64(len(p.key))), p.key...)
		}
		for _, id := range t.ids {
			dict = append(binary.AppendUvarint(dict, uint64(len(id))), id...)
		}
		if err := t.btx.Bucket(bucketDict).Put(binary.BigEndian.AppendUint64(nil, seq), dict); err != nil {
			return err
		}
		// In key order, so that bbolt inserts walk its pages forward.
		slices.SortFunc(t.rows, func(a, b posting) int { return bytes.Compare(a.key, b.key) })
		for _, p := range t.rows {
			if err := post.Put(binary.BigEndian.AppendUint64(p.key, seq), p.ids); err != nil {
				return err
			}
		}
	}
	n := readCount(t.btx) + t.added
	return t.btx.Bucket(bucketMeta).Put(keyCount, binary.BigEndian.AppendUint64(nil, n))
}

// encodeEvent frames the start of one ev row, appended to dst: the LastUpdated sort
// key, the length-prefixed record, then the commit's sequence; the caller appends the
// ordinals of the record's entries.
func encodeEvent(dst []byte, rec *fhir.Record, seq uint64) []byte {
	v := storecodec.AppendTimeKey(dst, rec.LastUpdated)
	// the record's length is only known once encoded: reserve a full varint, then
	// write the length padded to it (a uvarint may carry continuation bytes of 0x80)
	at := len(v)
	v = append(v, make([]byte, binary.MaxVarintLen64)...)
	v = storecodec.AppendRecord(v, rec)
	putPaddedUvarint(v[at:at+binary.MaxVarintLen64], uint64(len(v)-at-binary.MaxVarintLen64))
	return binary.AppendUvarint(v, seq)
}

// eventSize is about the size of the ev row of rec with n entries (encodeEvent and the
// ordinals), for its buffer.
func eventSize(rec *fhir.Record, n int) int {
	return 8 + 3*binary.MaxVarintLen64 + 16 + len(rec.ID) + len(rec.Method) + len(rec.Body) + 2*n
}

// putPaddedUvarint writes x as a uvarint of exactly len(b) bytes (continuation bytes
// 0x80 pad it), which binary.Uvarint reads as x.
func putPaddedUvarint(b []byte, x uint64) {
	for i := 0; i < len(b)-1; i++ {
		b[i] = byte(x) | 0x80
		x >>= 7
	}
	b[len(b)-1] = byte(x)
}

// decodeEvent splits an ev row into its time key, encoded record and encoded entries.
func decodeEvent(v []byte) (timeKey, rec, entries []byte, err error) {
	if len(v) < 8 {
		return nil, nil, nil, fmt.Errorf("appendonly: %w: short event row", storecodec.ErrCorrupt)
	}
	n, k := binary.Uvarint(v[8:])
	if k <= 0 || uint64(len(v)-8-k) < n {
		return nil, nil, nil, fmt.Errorf("appendonly: %w: event record length", storecodec.ErrCorrupt)
	}
	start := 8 + k
	return v[:8], v[start : start+int(n)], v[start+int(n):], nil
}

// record decodes the ev row of id.
func (t *tx) record(id string, v []byte) (*fhir.Record, error) {
	_, r, _, err := decodeEvent(v)
	if err != nil {
		return nil, err
	}
	return storecodec.DecodeRecord(t.typ, id, 1, r)
}

// Current returns the resource typ/id; there is only ever version 1.
func (t *tx) Current(typ, id string) (*fhir.Record, error) { return t.Version(typ, id, 1) }

// Version returns version 1 of typ/id, the only one that exists.
func (t *tx) Version(typ, id string, version int64) (*fhir.Record, error) {
	if typ != t.typ || version != 1 || id == "" {
		return nil, fhir.ErrNotFound
	}
	v := t.btx.Bucket(bucketEv).Get([]byte(id))
	if v == nil {
		return nil, fhir.ErrNotFound
	}
	return t.record(id, v)
}

// ScanIndex expands the posting rows of param with from <= key < to: in key order, and
// for one key in commit then Put order, entries put earlier in this transaction last.
// All ids of one row share the key slice given to fn, which must not modify it.
func (t *tx) ScanIndex(typ, param string, from, to []byte, fn func(key []byte, id string) bool) error {
	if typ != t.typ {
		return nil
	}
	prefix := append([]byte(param), 0)
	pending := t.pendingRows(prefix, from, to)
	c := t.btx.Bucket(bucketPost).Cursor()
	for k, v := c.Seek(storecodec.AppendIndexKey(bytes.Clone(prefix), from)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		key, seq, err := storecodec.ParseIndexMember(k[len(prefix):])
		if err != nil {
			return err
		}
		if len(seq) != 8 {
			return fmt.Errorf("appendonly: %w: posting row sequence", storecodec.ErrCorrupt)
		}
		if to != nil && bytes.Compare(key, to) >= 0 {
			break
		}
		for len(pending) > 0 && bytes.Compare(pending[0].key, key) < 0 {
			if more, err := t.expand(pending[0].key, t.seq, pending[0].ids, fn); !more || err != nil {
				return err
			}
			pending = pending[1:]
		}
		if more, err := t.expand(key, binary.BigEndian.Uint64(k[len(k)-8:]), v, fn); !more || err != nil {
			return err
		}
	}
	for _, p := range pending {
		if more, err := t.expand(p.key, t.seq, p.ids, fn); !more || err != nil {
			return err
		}
	}
	return nil
}

// pendingRows returns the rows of param (prefix: param 0) not yet flushed in this
// transaction whose key is within [from, to), with their keys decoded, in key order.
func (t *tx) pendingRows(prefix, from, to []byte) []posting {
	if t.flushed {
		return nil
	}
	var out []posting
	for _, p := range t.rows {
		if !bytes.HasPrefix(p.key, prefix) {
			continue
		}
		key, _, err := storecodec.ParseIndexMember(p.key[len(prefix):])
		if err != nil || bytes.Compare(key, from) < 0 || (to != nil && bytes.Compare(key, to) >= 0) {
			continue
		}
		out = append(out, posting{key: key, ids: p.ids})
	}
	slices.SortFunc(out, func(a, b posting) int { return bytes.Compare(a.key, b.key) })
	return out
}

// expand calls fn(key, id) for each id of a posting list of commit seq (ordinals
// into its dictionary); more is false once fn returned false.
func (t *tx) expand(key []byte, seq uint64, ords []byte, fn func(key []byte, id string) bool) (more bool, err error) {
	d, err := t.dictionary(seq)
	if err != nil {
		return false, err
	}
	for len(ords) > 0 {
		ord, w := binary.Uvarint(ords)
		if w <= 0 || ord >= uint64(len(d.ids)) {
			return false, fmt.Errorf("appendonly: %w: posting list", storecodec.ErrCorrupt)
		}
		if !fn(key, string(d.ids[ord])) {
			return false, nil
		}
		ords = ords[w:]
	}
	return true, nil
}

// Index returns the index entries of typ/id, sorted by (param, key); nil when none.
func (t *tx) Index(typ, id string) ([]fhir.IndexEntry, error) {
	if typ != t.typ || id == "" {
		return nil, nil
	}
	v := t.btx.Bucket(bucketEv).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	_, _, refs, err := decodeEvent(v)
	if err != nil {
		return nil, err
	}
	seq, w := binary.Uvarint(refs)
	if w <= 0 {
		return nil, fmt.Errorf("appendonly: %w: event entries", storecodec.ErrCorrupt)
	}
	if len(refs) == w { // no entries: the commit may have no dictionary
		return nil, nil
	}
	dict, err := t.dictionary(seq)
	if err != nil {
		return nil, err
	}
	var out []fhir.IndexEntry
	for refs = refs[w:]; len(refs) > 0; {
		ord, w := binary.Uvarint(refs)
		if w <= 0 || ord >= uint64(len(dict.entries)) {
			return nil, fmt.Errorf("appendonly: %w: event entry ordinal", storecodec.ErrCorrupt)
		}
		refs = refs[w:]
		param, member, ok := bytes.Cut(dict.entries[ord], []byte{0})
		key, _, err := storecodec.ParseIndexMember(member)
		if !ok || err != nil {
			return nil, fmt.Errorf("appendonly: %w: dictionary entry", storecodec.ErrCorrupt)
		}
		out = append(out, fhir.IndexEntry{Param: string(param), Key: key})
	}
	slices.SortFunc(out, func(a, b fhir.IndexEntry) int {
		return cmp.Or(cmp.Compare(a.Param, b.Param), bytes.Compare(a.Key, b.Key))
	})
	return out, nil
}

// dictionary returns the entries and ids of commit seq by ordinal: this
// transaction's own while it is not flushed, else the stored dictionary.
func (t *tx) dictionary(seq uint64) (*dictionary, error) {
	if seq == t.seq && t.post != nil && !t.flushed {
		d := &dictionary{entries: make([][]byte, len(t.rows)), ids: make([][]byte, len(t.ids))}
		for i, p := range t.rows {
			d.entries[i] = p.key
		}
		for i, id := range t.ids {
			d.ids[i] = []byte(id)
		}
		return d, nil
	}
	if d, ok := t.dicts[seq]; ok {
		return d, nil
	}
	raw := t.btx.Bucket(bucketDict).Get(binary.BigEndian.AppendUint64(nil, seq))
	n, w := binary.Uvarint(raw)
	if raw == nil || w <= 0 {
		return nil, fmt.Errorf("appendonly: %w: no dictionary for commit %d", storecodec.ErrCorrupt, seq)
	}
	raw = raw[w:]
	d := &dictionary{}
	for len(raw) > 0 {
		l, w := binary.Uvarint(raw)
		if w <= 0 || uint64(len(raw)-w) < l {
			return nil, fmt.Errorf("appendonly: %w: dictionary", storecodec.ErrCorrupt)
		}
		if uint64(len(d.entries)) < n {
			d.entries = append(d.entries, raw[w:w+int(l)])
		} else {
			d.ids = append(d.ids, raw[w:w+int(l)])
		}
		raw = raw[w+int(l):]
	}
	if t.dicts == nil {
		t.dicts = map[uint64]*dictionary{}
	}
	t.dicts[seq] = d
	return d, nil
}

// ScanType walks every resource in id order.
func (t *tx) ScanType(typ string, fn func(*fhir.Record) bool) error {
	if typ != t.typ {
		return nil
	}
	c := t.btx.Bucket(bucketEv).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := t.record(string(k), v)
		if err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}

// Count returns how many resources typ has (all of them are live), those put in this
// transaction included.
func (t *tx) Count(typ string) (int, error) {
	if typ != t.typ {
		return 0, nil
	}
	if t.flushed { // the count row already includes them
		return int(readCount(t.btx)), nil
	}
	return int(readCount(t.btx) + t.added), nil
}

// GetAux fails: auxiliary records belong in the general store.
func (t *tx) GetAux(ns, key string) ([]byte, error) { return nil, errNoAux }

// PutAux fails: auxiliary records belong in the general store.
func (t *tx) PutAux(ns, key string, value []byte) error { return errNoAux }
