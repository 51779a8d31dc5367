package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir/storecodec"
)

// The search index is kept in generations: bucket pidx is generation 0, and
// pidx.1, pidx.2, … follow. New entries go to the newest generation only. Once it
// has taken the entries of DefaultGenerationSize resources (WithGenerationSize), or
// of an eighth of all the resources the generations have taken if that is more, the
// next write transaction starts another.
//
// Why: a commit of a few hundred resources adds thousands of entries at keys spread
// all over the index (names, dates, references), and bbolt rewrites every page it
// touches, leaves and their branch pages up to the root. In one tree, the branch
// pages a commit dirties grow with the tree: about 450 per commit at 100,000
// resources and 1,700 at 1,000,000 (the scale report's write counts). A generation
// stops growing at GenerationSize, so what a commit writes stops growing with the
// store: a bulk load keeps its rate from 100,000 to 1,000,000 resources.
//
// The eighth keeps the number of generations growing with the logarithm of the
// store's size past eight generations (about 10 at 1,000,000 resources, 28 at
// 10,000,000), while the newest stays an eighth of the store at most.
//
// What it costs: a scan seeks once per generation (ScanIndex merges them in key,
// then id, order), one more B-tree descent per generation: about 0.4 µs with the
// pages in memory (BenchmarkLookupGenerations), more on a store larger than the
// processor's caches. The entries of one resource are always in one generation, the
// one its entry list names (ridx, below): an update of a resource of an older
// generation removes its entries there and adds them all to the newest, so that no
// (key, id) pair is ever in two generations and a scan never meets duplicates.
// Generations are not merged, as an LSM tree compacts its runs: their number grows
// only with the logarithm of the store's size, and a merge of two would be one long
// write transaction, holding every writer back for seconds.
//
//	meta  "pidx-generation" → newest generation (8B BE), resources it took (8B BE),
//	                           resources all generations took (8B BE)
//	ridx  type 0 id          → 0 0 0 0 uvarint(generation) list, for a generation
//	                           above 0; the list (compact, packed or not) as before
//	                           for generation 0, so that files of earlier versions
//	                           are read as they are
//
// The prefix 0 0 0 0 is free: 0 0 0 starts a packed list (pack.go), whose S2 block
// then starts with its decoded length, never 0 (only lists of 64 bytes and more are
// packed), and an unpacked compact list starts 0 and an ordinal, never 0 0.

// formatV3 is the layout before generations: a file of format 3 is a file of format 4
// whose index is all in generation 0, so its migration only records the new format.
// A gateway of format 3 refuses a file of format 4: it would read the rows of
// generation 0 only, and answer searches without the others.
const formatV3 = "aitgw-bolt/3"

// migrateV3 takes a file of format 3 to format 4: generation 0 has taken every
// resource with entries (one walk of the entry lists' bucket), so that the next
// generation starts as if the file had been written with generations.
func migrateV3(db *bbolt.DB) error {
	return db.Update(func(btx *bbolt.Tx) error {
		n := uint64(btx.Bucket(bucketRIdx).Stats().KeyN)
		t := &tx{btx: btx, gens: &generations{taken: n, total: n, changed: true}}
		if err := t.saveGeneration(); err != nil {
			return err
		}
		return btx.Bucket(bucketMeta).Put([]byte("format"), []byte(format))
	})
}

// DefaultGenerationSize is how many resources' entries a generation of the search
// index takes before the next one starts (WithGenerationSize).
const DefaultGenerationSize = 100_000

var (
	metaGeneration      = []byte("pidx-generation")
	generationListStart = []byte{0, 0, 0, 0}
)

// generationSpread is the share of all the resources indexed (1/generationSpread)
// past which the newest generation is full, when that is above the store's
// generation size (DefaultGenerationSize, WithGenerationSize).
const generationSpread = 8

// generations is the state of the index's generations as one function (tx) sees it.
type generations struct {
	newest, taken uint64 // the newest generation and the resources it took
	total         uint64 // the resources all generations took
	changed       bool   // to write back to meta at the end of fn
	rolled        bool   // this fn decided whether to start a generation
}

// generation returns the state of the generations, read from meta on first use.
func (t *tx) generation() (*generations, error) {
	if t.gens != nil {
		return t.gens, nil
	}
	g := &generations{}
	if v := t.btx.Bucket(bucketMeta).Get(metaGeneration); v != nil {
		if len(v) != 24 {
			return nil, fmt.Errorf("%w: meta %s of %d bytes", errCorrupt, metaGeneration, len(v))
		}
		g.newest, g.taken, g.total = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]), binary.BigEndian.Uint64(v[16:])
	}
	t.gens = g
	return g, nil
}

// writeGeneration returns the generation that takes this function's new entries,
// starting a new one first when the newest is full.
func (t *tx) writeGeneration() (uint64, error) {
	g, err := t.generation()
	if err != nil {
		return 0, err
	}
	if !g.rolled {
		g.rolled = true
		if t.genSize > 0 && g.taken >= max(uint64(t.genSize), g.total/generationSpread) {
			if _, err := t.btx.CreateBucketIfNotExists(generationBucket(g.newest + 1)); err != nil {
				return 0, err
			}
			g.newest, g.taken, g.changed = g.newest+1, 0, true
			t.genBuckets, t.scanSets = nil, nil // one more
		}
	}
	return g.newest, nil
}

// took counts a resource whose entries the newest generation took.
func (g *generations) took() { g.taken, g.total, g.changed = g.taken+1, g.total+1, true }

// saveGeneration writes the generations' state back to meta if this function
// changed it.
func (t *tx) saveGeneration() error {
	if t.gens == nil || !t.gens.changed {
		return nil
	}
	v := binary.BigEndian.AppendUint64(nil, t.gens.newest)
	v = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(v, t.gens.taken), t.gens.total)
	t.gens.changed = false
	return t.btx.Bucket(bucketMeta).Put(metaGeneration, v)
}

// generationBucket names the bucket of generation gen.
func generationBucket(gen uint64) []byte {
	if gen == 0 {
		return bucketPIdx
	}
	return strconv.AppendUint(append(bytes.Clone(bucketPIdx), '.'), gen, 10)
}

// indexBucket returns the bucket of generation gen; an entry list naming a
// generation that does not exist is corruption.
func (t *tx) indexBucket(gen uint64) (*bbolt.Bucket, error) {
	b := t.bucket(generationBucket(gen))
	if b == nil {
		return nil, fmt.Errorf("%w: index generation %d is missing", errCorrupt, gen)
	}
	return b, nil
}

// indexBuckets returns the buckets of the generations, oldest first.
func (t *tx) indexBuckets() ([]*bbolt.Bucket, error) {
	if t.genBuckets != nil {
		return t.genBuckets, nil
	}
	g, err := t.generation()
	if err != nil {
		return nil, err
	}
	for gen := uint64(0); gen <= g.newest; gen++ {
		if b := t.bucket(generationBucket(gen)); b != nil {
			t.genBuckets = append(t.genBuckets, b)
		}
	}
	return t.genBuckets, nil
}

// storeEntryList is the ridx value of a stored list (packList) whose entries are in
// generation gen.
func storeEntryList(gen uint64, stored []byte) []byte {
	if gen == 0 {
		return stored
	}
	v := binary.AppendUvarint(bytes.Clone(generationListStart), gen)
	return append(v, stored...)
}

// splitEntryList reads a ridx value into the generation of its entries and the
// stored list.
func splitEntryList(v []byte) (gen uint64, stored []byte, err error) {
	if !bytes.HasPrefix(v, generationListStart) {
		return 0, v, nil
	}
	gen, n := binary.Uvarint(v[len(generationListStart):])
	if n <= 0 || gen == 0 {
		return 0, nil, fmt.Errorf("%w: entry list generation", errCorrupt)
	}
	return gen, v[len(generationListStart)+n:], nil
}

// generationCursor walks the rows of one parameter in one generation, id by id.
type generationCursor struct {
	c      *bbolt.Cursor
	prefix []byte // the parameter's ordinal
	to     []byte // exclusive upper bound of rows (prefix esc(to)), nil for none
	key    []byte // key of the current id (fresh memory); nil when done
	enc    []byte // the current id, key form (appendID)
	rest   []byte // the ids of the current block after enc
}

// next moves to the following id: in the block, else in the next row.
func (g *generationCursor) next() error {
	if len(g.rest) > 0 {
		enc, rest, err := nextBlockID(g.rest)
		if err != nil {
			return err
		}
		g.enc, g.rest = enc, rest
		return nil
	}
	k, v := g.c.Next()
	return g.load(k, v)
}

// load makes row (k, v) current, or ends the walk past the parameter or the bound.
func (g *generationCursor) load(k, v []byte) error {
	g.key = nil
	if k == nil || !bytes.HasPrefix(k, g.prefix) || (g.to != nil && bytes.Compare(k, g.to) >= 0) {
		return nil // an escaped key is below the rows of every key at or above it
	}
	key, enc, err := storecodec.ParseIndexMember(k[len(g.prefix):])
	if err != nil {
		return err
	}
	g.key, g.enc, g.rest = key, []byte(enc), v
	return nil
}

// before tells whether g's current id comes before o's: by key, then by id.
func (g *generationCursor) before(o *generationCursor) bool {
	if c := bytes.Compare(g.key, o.key); c != 0 {
		return c < 0
	}
	return bytes.Compare(g.enc, o.enc) < 0
}

// scanSet is a cursor on each generation, for one scan at a time: a scan's fn may
// scan again (a chain, a check), so a transaction keeps as many as are in use at once
// and reuses them, rather than opening a bbolt cursor per generation and scan.
type scanSet struct {
	cursors []generationCursor
	live    []*generationCursor
}

// takeScanSet returns a set of cursors on the generations, unused by any scan.
func (t *tx) takeScanSet() (*scanSet, error) {
	if n := len(t.scanSets); n > 0 {
		s := t.scanSets[n-1]
		t.scanSets = t.scanSets[:n-1]
		return s, nil
	}
	buckets, err := t.indexBuckets()
	if err != nil {
		return nil, err
	}
	s := &scanSet{cursors: make([]generationCursor, len(buckets)), live: make([]*generationCursor, 0, len(buckets))}
	for i, b := range buckets {
		s.cursors[i].c = b.Cursor()
	}
	return s, nil
}

// scanGenerations walks the index rows of the parameter prefix with from <= key < to
// in every generation, merged in key, then id, order (ScanIndex).
func (t *tx) scanGenerations(prefix, from, to []byte, fn func(key []byte, id string) bool) error {
	set, err := t.takeScanSet()
	if err != nil {
		return err
	}
	defer func() { t.scanSets = append(t.scanSets, set) }()
	var toRow []byte
	if to != nil {
		toRow = storecodec.AppendIndexKey(bytes.Clone(prefix), to)
	}
	fromRow := storecodec.AppendIndexKey(bytes.Clone(prefix), from)
	live := set.live[:0]
	for i := range set.cursors {
		gc := &set.cursors[i]
		gc.prefix, gc.to = prefix, toRow
		if err := gc.load(gc.c.Seek(fromRow)); err != nil {
			return err
		}
		if gc.key != nil {
			live = append(live, gc)
		}
	}
	for len(live) > 0 {
		first := 0
		for i := 1; i < len(live); i++ {
			if live[i].before(live[first]) {
				first = i
			}
		}
		gc := live[first]
		id, err := decodeID(gc.enc)
		if err != nil {
			return err
		}
		if !fn(bytes.Clone(gc.key), id) {
			return nil
		}
		if err := gc.next(); err != nil {
			return err
		}
		if gc.key == nil {
			live = append(live[:first], live[first+1:]...)
		}
	}
	return nil
}
