// Package bolt is the embedded default fhir.Store: one bbolt file per gateway, fsynced
// on every commit, with concurrent writers coalesced into shared commits (group
// commit, commit.go) so that throughput does not collapse to one fsync per request
// and a lone writer waits for nothing but its own fsync.
//
// Layout (all buckets at the root of the file):
//
//	meta   "format" → "aitgw-bolt/4", "pidx-generation" → generations.go
//	cur    type 0 id               → storecodec.CurrentState: the current version
//	ver    type 0 id 0 version(8B) → encoded record (fhir/storecodec), its body
//	                                 compressed when that pays (pack.go)
//	hist   time(8B) seq(8B)        → type 0 id 0 version(8B): system history
//	thist  type 0 time(8B) seq(8B) → id 0 version(8B): type history
//	pidx   ordinal esc(key) 0 1 idenc → more ids: search index, in key byte order,
//	                                 ids of one key in blocks (postings.go), and
//	pidx.N                         the same, for generation N = 1, 2, … of the
//	                                 index (generations.go)
//	pname  type 0 param          → ordinal (2B): see compactidx.go
//	ridx   type 0 id               → compact entry list (compactidx.go), compressed
//	                                 when that pays (pack.go), to replace them on
//	                                 update, with the generation of its entries
//	count  type                    → live resources (8B BE)
//	aux    ns 0 key                → value
//
// Types, ids, parameter names and aux namespaces never contain NUL (Put refuses them),
// so NUL separates them unambiguously; index keys are arbitrary bytes and are escaped
// (0x00 → 0x00 0xFF, terminated by 0x00 0x01), which keeps byte order.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/aitgw/aitgw/fhir"
)

// format names the on-disk layout; Open migrates a file of format 1 (migrate.go), 2
// (migrate3.go) or 3 (generations.go) and refuses any other.
const format = "aitgw-bolt/4"

var (
	bucketMeta  = []byte("meta")
	bucketCur   = []byte("cur")
	bucketVer   = []byte("ver")
	bucketHist  = []byte("hist")
	bucketTHist = []byte("thist")
	bucketRIdx  = []byte("ridx")
	bucketCount = []byte("count")
	bucketAux   = []byte("aux")
	allBuckets  = [][]byte{bucketMeta, bucketCur, bucketVer, bucketHist, bucketTHist, bucketPIdx, bucketPName, bucketRIdx, bucketCount, bucketAux}
)

// Store is a fhir.Store kept in one bbolt file.
type Store struct {
	db     *bbolt.DB
	commit *committer // nil: every Update commits alone (WithoutBatching), or
	// fixedBatch: bbolt's Batch (WithFixedBatchDelay)
	fixedBatch bool
	genSize    int // resources per index generation (generations.go)
}

var _ fhir.Store = (*Store)(nil)

// config collects the Options.
type config struct {
	lockTimeout  time.Duration
	maxBatchSize int
	batched      bool
	fixedDelay   time.Duration
	genSize      int
}

// Option tunes Open.
type Option func(*config)

// WithLockTimeout bounds how long Open waits for the file lock held by another process
// (default 2 s).
func WithLockTimeout(d time.Duration) Option { return func(c *config) { c.lockTimeout = d } }

// WithMaxBatchSize bounds how many Updates share one commit (default 256). There is
// no batching delay to tune: a batch is what queued during the previous commit.
func WithMaxBatchSize(n int) Option { return func(c *config) { c.maxBatchSize = n } }

// WithFixedBatchDelay replaces the group commit by bbolt's Batch, which waits up to d
// for other writes to share a commit: the strategy of earlier versions, kept so that
// the load command can measure both in one run.
func WithFixedBatchDelay(d time.Duration) Option {
	return func(c *config) { c.fixedDelay = d }
}

// WithGenerationSize sets how many resources' entries a generation of the search
// index takes before the next one starts (default DefaultGenerationSize; see
// generations.go); 0 keeps the whole index in one generation, as format 3 did. Fewer
// make a bulk load's commits cheaper, and each index scan seeks more generations;
// tests use a handful, so that scans merge generations.
func WithGenerationSize(n int) Option { return func(c *config) { c.genSize = n } }

// WithoutBatching gives every Update its own commit and fsync; for comparison in
// benchmarks, and for callers whose fn must run exactly once.
func WithoutBatching() Option { return func(c *config) { c.batched = false } }

// Open opens or creates the store file at path (e.g. <data>/aitgw.db), creating its
// directory. The file is locked for the lifetime of the Store: a second process gets
// an error naming the lock after the lock timeout.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := config{lockTimeout: 2 * time.Second, maxBatchSize: 256, batched: true, genSize: DefaultGenerationSize}
	for _, o := range opts {
		o(&cfg)
	}
	db, err := OpenFile(path, cfg.lockTimeout, 0)
	if err != nil {
		return nil, fmt.Errorf("bolt: %w", err)
	}
	var from string
	if err := db.Update(func(btx *bbolt.Tx) (err error) { from, err = initLayout(btx); return err }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: %s: %w", path, err)
	}
	if err := migrate(db, from); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: %s: %w", path, err)
	}
	s := &Store{db: db, fixedBatch: cfg.batched && cfg.fixedDelay > 0, genSize: cfg.genSize}
	db.MaxBatchDelay, db.MaxBatchSize = cfg.fixedDelay, cfg.maxBatchSize
	if cfg.batched && !s.fixedBatch {
		s.commit = newCommitter(db, cfg.maxBatchSize)
	}
	return s, nil
}

// OpenFile opens or creates the bbolt file at path, creating its directory, with the
// options every store of the gateway uses (fhir/appendonly too); a file locked by
// another process is an error naming the lock after lockTimeout. pageSize sets the
// page size of a file it creates (0: the operating system's); a file that exists
// keeps the page size it was created with.
func OpenFile(path string, lockTimeout time.Duration, pageSize int) (*bbolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      lockTimeout,
		FreelistType: bbolt.FreelistMapType, // faster allocation once the file is large
		// the free-page list is not written at every commit (it grows with the file,
		// and every commit would rewrite it) but rebuilt at Open by a walk of the
		// pages, as etcd does: the data's durability is unchanged
		NoFreelistSync: true,
		// address space reserved up front: a growing file is not remapped (a remap
		// waits for every reader) until it passes 1 GiB
		InitialMmapSize: 1 << 30,
		PageSize:        pageSize,
	})
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, fmt.Errorf("%s is locked by another process (waited %s): %w", path, lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// initLayout creates the buckets of a new file and checks the format of an old one;
// from is the format of a file to migrate, empty when there is none.
func initLayout(tx *bbolt.Tx) (from string, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta != nil {
		switch got := string(meta.Get([]byte("format"))); got {
		case formatV1, formatV2, formatV3Migrating, formatV3:
			from = got
		case "", format:
		default:
			return "", fmt.Errorf("file format %q, this gateway reads %q (and migrates %q, %q and %q)", got, format, formatV1, formatV2, formatV3)
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return "", err
		}
	}
	meta = tx.Bucket(bucketMeta)
	if meta.Get([]byte("format")) == nil {
		return "", meta.Put([]byte("format"), []byte(format))
	}
	return from, nil
}

// migrate takes a file of format from (see initLayout) to the current format, one
// format at a time; each step is redone if interrupted.
func migrate(db *bbolt.DB, from string) error {
	if from == formatV1 {
		if _, err := migrateV1(db); err != nil {
			return err
		}
		from = formatV2
	}
	if from == formatV2 || from == formatV3Migrating {
		if _, err := migrateV2(db); err != nil {
			return err
		}
		from = formatV3
	}
	if from == formatV3 {
		return migrateV3(db)
	}
	return nil
}

// View runs fn on a read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(fhir.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(btx *bbolt.Tx) error { return run(fn, btx, 0) })
}

// Update runs fn in a read-write transaction and returns once it is committed and
// fsynced. Concurrent Updates share a commit unless WithoutBatching was given; fn is
// then run again, alone, for a caller whose fn failed, so that its error rolls back
// only its own work (and the others of its batch are run again without it).
func (s *Store) Update(ctx context.Context, fn func(fhir.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body := func(btx *bbolt.Tx) error {
		// Checked again here: the caller may give up while its write waits for a batch.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := run(fn, btx, s.genSize); err != nil {
			return err
		}
		// and after: a request cancelled (past its deadline) while fn ran leaves no
		// write behind.
		return ctx.Err()
	}
	if s.commit != nil {
		return s.commit.update(ctx, body)
	}
	if s.fixedBatch {
		return s.db.Batch(body)
	}
	return s.db.Update(body)
}

// run calls fn on btx, turning a panic into an error so that bbolt rolls back and the
// gateway keeps serving.
func run(fn func(fhir.Tx) error, btx *bbolt.Tx, genSize int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bolt: transaction function panicked: %v", p)
		}
	}()
	t := &tx{btx: btx, genSize: genSize}
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flushIndex(nil); err != nil {
		return err
	}
	return t.saveGeneration()
}

// Close finishes the commit in progress, fails the writes still queued, and releases
// the file and its lock. Closing twice is harmless.
func (s *Store) Close() error {
	if s.commit != nil {
		s.commit.close()
	}
	return s.db.Close()
}

// Path returns the file the store is kept in.
func (s *Store) Path() string { return s.db.Path() }
