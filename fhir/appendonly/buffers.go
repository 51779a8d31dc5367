package appendonly

// writeBuffers are a write transaction's working memory, kept from one write
// transaction to the next: bbolt runs one at a time, and the audit trail writes a
// batch of events every few tens of milliseconds, for which allocating these afresh
// made 45 % of its garbage per event (BenchmarkAuditWrite: 6.9 KB, now 3.8) and a
// sixth of its CPU. What is handed to bbolt as a value (event rows, posting lists, the
// dictionary) stays untouched until the transaction has committed, as bbolt requires:
// the next write transaction, the only one that reuses it, starts after that commit.
type writeBuffers struct {
	post    map[string]int
	rows    []posting
	ids     []string
	ords    []int
	scratch []byte
	values  slab
}

// take lends the buffers to the write transaction t, emptied.
func (b *writeBuffers) take(t *tx) {
	t.buf = b
	t.rows, t.ids, t.ords, t.scratch = b.rows[:0], b.ids[:0], b.ords[:0], b.scratch[:0]
	b.values.reset()
}

// keptRows and keptChunks bound what the store keeps after an unusually large
// commit (the audit trail's are at most 1,024 events, some 10,000 rows and a few
// chunks): past them, the memory goes back to the garbage collector.
const (
	keptRows   = 1 << 16
	keptChunks = 16
)

// give takes the buffers back from t, grown as it grew them, up to keptRows and
// keptChunks.
func (b *writeBuffers) give(t *tx) {
	b.rows, b.ids, b.ords, b.scratch = t.rows, t.ids, t.ords, t.scratch
	if len(b.post) > keptRows {
		b.post = nil
	}
	if cap(b.rows) > keptRows {
		b.rows = nil
	}
	if cap(b.ids) > keptRows {
		b.ids = nil
	}
	if len(b.values.chunks) > keptChunks {
		clear(b.values.chunks[keptChunks:])
		b.values.chunks = b.values.chunks[:keptChunks]
	}
}

// postMap returns the emptied map of the transaction's posting rows.
func (b *writeBuffers) postMap() map[string]int {
	if b.post == nil {
		b.post = make(map[string]int)
	}
	clear(b.post)
	return b.post
}

// appendRow appends to rows a posting row of key (copied, with room for the commit
// sequence flush appends), reusing the memory of the row last in that place.
func (b *writeBuffers) appendRow(rows []posting, key []byte) []posting {
	n := len(rows)
	if n < cap(rows) {
		rows = rows[:n+1]
	} else {
		rows = append(rows, posting{})
	}
	p := &rows[n]
	if cap(p.key) < len(key)+8 {
		p.key = make([]byte, 0, len(key)+8)
	}
	p.key, p.ids = append(p.key[:0], key...), p.ids[:0]
	return rows
}

// slab hands out byte slices carved from chunks that are reused once reset.
type slab struct {
	chunks [][]byte
	cur    int
}

// slabChunk is the size of a chunk; a larger request gets memory of its own.
const slabChunk = 256 << 10

// alloc returns an empty slice with room for n bytes; appending past n moves it
// elsewhere rather than over its neighbour's bytes.
func (s *slab) alloc(n int) []byte {
	if n > slabChunk/4 {
		return make([]byte, 0, n)
	}
	for ; s.cur < len(s.chunks); s.cur++ {
		c := s.chunks[s.cur]
		if l := len(c); cap(c)-l >= n {
			s.chunks[s.cur] = c[:l+n]
			return c[l : l : l+n]
		}
	}
	s.chunks = append(s.chunks, make([]byte, n, slabChunk))
	return s.chunks[s.cur][0:0:n]
}

// reset makes every chunk's bytes available again.
func (s *slab) reset() {
	for i := range s.chunks {
		s.chunks[i] = s.chunks[i][:0]
	}
	s.cur = 0
}
