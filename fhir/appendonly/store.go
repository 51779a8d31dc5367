// Package appendonly is an embedded fhir.Store for one resource type whose resources
// are written once and never changed: the server's audit trail. Because nothing is ever
// updated or deleted, there is no version chain, no history rows and no reverse index
// to maintain, and the search index is written as posting lists: one row per distinct
// (parameter, key) per commit, listing the ids of that commit, instead of one row per
// entry. A commit of many events therefore costs about one B+tree row per event plus
// one per distinct index value.
//
// Layout (one bbolt file, buckets at the root):
//
//	meta  "format" → "aitgw-appendonly/1", "type" → the resource type,
//	      "count" → live resources (8B BE)
//	ev    id → time(8B) uvarint(len(rec)) rec uvarint(seq) uvarint(ordinal)…: the
//	      record (storecodec.EncodeRecord) and its index entries, as ordinals in the
//	      dictionary of the commit that wrote it; the leading sort key of LastUpdated
//	      lets History order events without decoding them
//	post  param 0 esc(key) 0 1 seq(8B) → uvarint(ordinal)…: the ids of one commit
//	      with that entry, in Put order, as ordinals into its dictionary; seq grows
//	      per commit, so one key's rows are in commit order
//	dict  seq(8B) → uvarint(n) (uvarint(len(p)) p)×n (uvarint(len(id)) id)…: the n
//	      distinct entries of one commit, each as its posting row's prefix
//	      p = param 0 esc(key) 0 1, then its ids, by ordinal. Events share most of
//	      their entries (type, action, agent…), so an event row holds a few bytes of
//	      ordinals instead of ~600 bytes of entries (rows of ~1.5 KB, ten to a
//	      16 KiB page), and a posting row two bytes per event instead of its 37-byte id.
//
// Parameter names never contain NUL and keys are escaped as in fhir/bolt
// (storecodec.AppendIndexKey), so rows sort by (param, key, commit).
package appendonly

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/storecodec"
)

// format names the on-disk layout; Open refuses files written in another one.
const format = "aitgw-appendonly/1"

var (
	bucketMeta = []byte("meta")
	bucketEv   = []byte("ev")
	bucketPost = []byte("post")
	bucketDict = []byte("dict")
	keyFormat  = []byte("format")
	keyType    = []byte("type")
	keyCount   = []byte("count")
)

// pageSize is the page size of a new store file. bbolt writes a commit's dirty pages
// one write call each, and an event (about 1.5 KB with its row) fills a third of a
// 4 KiB page: with 16 KiB pages a commit of a thousand events makes a quarter of the
// calls (BenchmarkAuditWrite in server/smart, 100,000 events: 22 → 19.5 CPU µs per
// event on the machine where it was measured). Events are
// appended, never updated in place, so the larger leaves cost no rewrites; a file made
// with another page size keeps it.
const pageSize = 16 << 10

// Store is a fhir.Store of one append-only resource type kept in one bbolt file.
type Store struct {
	db  *bbolt.DB
	typ string
	// wbuf is lent to each write transaction in turn.
	wbuf writeBuffers
}

var _ fhir.Store = (*Store)(nil)

// config collects the Options.
type config struct {
	lockTimeout time.Duration
}

// Option tunes Open.
type Option func(*config)

// WithLockTimeout bounds how long Open waits for the file lock held by another process
// (default 2 s).
func WithLockTimeout(d time.Duration) Option { return func(c *config) { c.lockTimeout = d } }

// Open opens or creates the store file at path for resources of type typ, creating its
// directory. A file created for another type, or in another format, is refused: mixing
// them would make every read wrong.
func Open(path, typ string, opts ...Option) (*Store, error) {
	if err := storecodec.CheckName("resource type", typ); err != nil {
		return nil, fmt.Errorf("appendonly: %w", err)
	}
	cfg := config{lockTimeout: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	db, err := bolt.OpenFile(path, cfg.lockTimeout, pageSize)
	if err != nil {
		return nil, fmt.Errorf("appendonly: %w", err)
	}
	if err := db.Update(func(btx *bbolt.Tx) error { return initLayout(btx, typ) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("appendonly: %s: %w", path, err)
	}
	return &Store{db: db, typ: typ}, nil
}

// initLayout creates the buckets of a new file and checks the format and type of an
// old one.
func initLayout(btx *bbolt.Tx, typ string) error {
	for _, name := range [][]byte{bucketMeta, bucketEv, bucketPost, bucketDict} {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := btx.Bucket(bucketMeta)
	got := meta.Get(keyFormat)
	if got == nil {
		if err := meta.Put(keyFormat, []byte(format)); err != nil {
			return err
		}
		return meta.Put(keyType, []byte(typ))
	}
	if string(got) != format {
		return fmt.Errorf("file format %q, this gateway reads %q", got, format)
	}
	if t := meta.Get(keyType); string(t) != typ {
		return fmt.Errorf("file keeps %q resources, not %q", t, typ)
	}
	return nil
}

// Type returns the resource type the store keeps.
func (s *Store) Type() string { return s.typ }

// View runs fn on a read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(fhir.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(btx *bbolt.Tx) error { return run(fn, s.newTx(btx)) })
}

// Update runs fn exactly once in its own read-write transaction and commit (one
// fsync): callers batch events themselves, and a single run keeps fn free to have
// effects outside the transaction. The posting rows of everything fn put are written
// when fn returns nil, just before the commit.
func (s *Store) Update(ctx context.Context, fn func(fhir.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(btx *bbolt.Tx) error {
		t := s.newTx(btx)
		s.wbuf.take(t)
		defer s.wbuf.give(t)
		if err := run(fn, t); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil { // the caller gave up: do not commit behind its back
			return err
		}
		return t.flush()
	})
}

// Snapshot opens a read-only snapshot that stays valid until release is called; a
// caller (fhir.Split) uses it to read this store alongside another store's transaction.
// Release must be called exactly once; further calls do nothing.
func (s *Store) Snapshot(ctx context.Context) (fhir.Tx, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	btx, err := s.db.Begin(false)
	if err != nil {
		return nil, nil, fmt.Errorf("appendonly: snapshot: %w", err)
	}
	var once sync.Once
	return s.newTx(btx), func() { once.Do(func() { _ = btx.Rollback() }) }, nil
}

// run calls fn on t, turning a panic into an error so that bbolt rolls back and the
// gateway keeps serving.
func run(fn func(fhir.Tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("appendonly: transaction function panicked: %v", p)
		}
	}()
	return fn(t)
}

// Close releases the file and its lock. Closing twice is harmless.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the file the store is kept in.
func (s *Store) Path() string { return s.db.Path() }

// readCount returns the live count kept in meta.
func readCount(btx *bbolt.Tx) uint64 {
	v := btx.Bucket(bucketMeta).Get(keyCount)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
