// Package redis is the fhir.Store for several gateway instances sharing one Redis 7.
//
// Isolation. Writers are serialised by a lock key (SET NX PX, released by token), so
// that an Update's reads cannot be invalidated by another instance while fn runs: fn
// runs exactly once. Its writes are buffered in the transaction (its own reads see
// them) and committed by one MULTI/EXEC, WATCHing the lock so that a writer whose lock
// expired commits nothing. Views read Redis directly; to see a consistent snapshot
// they hold a reader lease (a sorted set scored by expiry, on Redis' clock) and a
// commit waits until the leases taken before it are released, while new Views wait
// for the commit (a few milliseconds). A View longer than the lease (1 min) or an
// Update longer than the lock (30 s) loses these guarantees.
//
// Keys all share the hash tag {prefix}, so the store also runs on one Redis Cluster
// slot; keys hold binary strings (see codec.go).
//
// Durability: Update returning nil means Redis acknowledged EXEC, not that it is on
// disk. The development and CI Redis runs with no persistence (--save ""
// --appendonly no); production must run Redis with appendonly yes and appendfsync
// always (and a replica with WAIT if a lost primary must lose nothing), otherwise an
// acknowledged clinical write can vanish on a Redis crash.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
)

// Store is a fhir.Store kept in Redis.
type Store struct {
	rdb      *goredis.Client
	keys     keys
	writer   chan struct{} // serialises this instance's writers before they compete in Redis
	lockTTL  time.Duration
	leaseTTL time.Duration
	frozen   bool
}

var _ fhir.Store = (*Store)(nil)

type config struct {
	prefix   string
	lockTTL  time.Duration
	leaseTTL time.Duration
	// frozen turns renewal off: tests use it to play an instance that stalls.
	frozen bool
}

// Option tunes Open.
type Option func(*config)

// WithPrefix sets the prefix of every key (default "aitgw"); stores with different
// prefixes share nothing.
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithLockTTL sets how long the writer lock outlives its holder (default 3 s). The
// holder renews it while it runs, so an Update may take longer; an instance killed
// while holding it delays the others by this much at most.
func WithLockTTL(d time.Duration) Option { return func(c *config) { c.lockTTL = d } }

// Open connects to the Redis at url (redis://host:port/db, as go-redis parses it) and
// checks that it answers.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg := config{prefix: "aitgw", lockTTL: DefaultLockTTL, leaseTTL: DefaultLeaseTTL}
	for _, o := range opts {
		o(&cfg)
	}
	ropts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	rdb := goredis.NewClient(ropts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis store: %s does not answer: %w", ropts.Addr, err)
	}
	return &Store{rdb: rdb, keys: newKeys(cfg.prefix), writer: make(chan struct{}, 1),
		lockTTL: cfg.lockTTL, leaseTTL: cfg.leaseTTL, frozen: cfg.frozen}, nil
}

// Close releases the connections. Closing twice is harmless.
func (s *Store) Close() error {
	if err := s.rdb.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
		return err
	}
	return nil
}

// keys names the Redis keys of one store.
type keys struct{ p string }

func newKeys(prefix string) keys { return keys{p: "{" + prefix + "}:"} }

func (k keys) cur() string                    { return k.p + "cur" }
func (k keys) versions(typ, id string) string { return k.p + "v:" + typ + "\x00" + id }
func (k keys) live(typ string) string         { return k.p + "live:" + typ }
func (k keys) hist() string                   { return k.p + "h" }
func (k keys) typeHist(typ string) string     { return k.p + "th:" + typ }
func (k keys) index(typ, param string) string { return k.p + "i:" + typ + "\x00" + param }
func (k keys) resIndex() string               { return k.p + "ri" }
func (k keys) aux(ns string) string           { return k.p + "a:" + ns }
func (k keys) seq() string                    { return k.p + "seq" }
func (k keys) lock() string                   { return k.p + "lock" }
func (k keys) readers() string                { return k.p + "readers" }
func (k keys) committing() string             { return k.p + "committing" }

// Pattern matches every key of the store, for SCAN-based cleanup by tools and tests.
func (s *Store) Pattern() string { return s.keys.p + "*" }

// Lua scripts of the reader/writer protocol. Times come from Redis' clock so that
// instances with skewed clocks agree.
var (
	// acquireLease: no lease while a commit is pending; else register reader ARGV[1]
	// until now + ARGV[2] ms.
	acquireLease = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 1`)
	// beginCommit: check the writer still holds the lock, flag the commit so that no
	// new lease starts, drop expired leases, return how many are left.
	beginCommit = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('ZCARD', KEYS[2])`)
	// renewLock: extend the lock and the commit flag if they are still ours.
	renewLock = goredis.NewScript(`
local ok = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ok = 1 end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return ok`)
	// renewLease: push reader ARGV[1]'s lease to now + ARGV[2] ms if it still has one.
	renewLease = goredis.NewScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1`)
	// release: delete the lock and the commit flag if they are still ours.
	release = goredis.NewScript(`
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1`)
)

// errLockLost means the writer lock expired before the commit: nothing was written.
var errLockLost = fmt.Errorf("%w: redis store: writer lock expired before commit", fhir.ErrConflict)

// View runs fn on a consistent snapshot, under a reader lease.
func (s *Store) View(ctx context.Context, fn func(fhir.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	id := token()
	err := poll(ctx, func() (bool, error) {
		n, err := acquireLease.Run(ctx, s.rdb, []string{s.keys.committing(), s.keys.readers()},
			id, s.leaseTTL.Milliseconds()).Int()
		return n == 1, err
	})
	if err != nil {
		return unavailable(err)
	}
	// Released even if ctx is cancelled: the lease would otherwise hold writers back
	// until it expires.
	defer s.rdb.ZRem(context.WithoutCancel(ctx), s.keys.readers(), id)
	defer s.keepAlive(ctx, s.leaseTTL, func(c context.Context) {
		renewLease.Run(c, s.rdb, []string{s.keys.readers()}, id, s.leaseTTL.Milliseconds())
	})()
	return unavailable(run(fn, &tx{ctx: ctx, s: s}))
}

// Update takes the writer lock, runs fn once with writes buffered, and commits them
// in one MULTI/EXEC.
func (s *Store) Update(ctx context.Context, fn func(fhir.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.writer <- struct{}{}:
		defer func() { <-s.writer }()
	case <-ctx.Done():
		return ctx.Err()
	}
	tok := token()
	err := poll(ctx, func() (bool, error) {
		return s.rdb.SetNX(ctx, s.keys.lock(), tok, s.lockTTL).Result()
	})
	if err != nil {
		return unavailable(err)
	}
	defer release.Run(context.WithoutCancel(ctx), s.rdb, []string{s.keys.lock(), s.keys.committing()}, tok)
	defer s.keepAlive(ctx, s.lockTTL, func(c context.Context) {
		renewLock.Run(c, s.rdb, []string{s.keys.lock(), s.keys.committing()}, tok, s.lockTTL.Milliseconds())
	})()
	t := &tx{ctx: ctx, s: s, w: newWrites()}
	if err := run(fn, t); err != nil {
		return unavailable(err)
	}
	if t.w.empty() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err // cancelled (past the request deadline) while fn ran: write nothing
	}
	return unavailable(s.commit(context.WithoutCancel(ctx), tok, t.w))
}

// commit waits for earlier readers, then applies w atomically if the lock is still ours.
func (s *Store) commit(ctx context.Context, tok string, w *writes) error {
	err := poll(ctx, func() (bool, error) {
		n, err := beginCommit.Run(ctx, s.rdb, []string{s.keys.lock(), s.keys.readers(), s.keys.committing()},
			tok, s.lockTTL.Milliseconds()).Int()
		if n < 0 {
			return false, errLockLost
		}
		return n == 0, err
	})
	if err != nil {
		return err
	}
	seq, err := s.rdb.IncrBy(ctx, s.keys.seq(), int64(len(w.log))).Result()
	if err != nil {
		return err
	}
	first := uint64(seq) - uint64(len(w.log)) + 1
	err = s.rdb.Watch(ctx, func(rtx *goredis.Tx) error {
		owner, err := rtx.Get(ctx, s.keys.lock()).Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return err
		}
		if owner != tok {
			return errLockLost
		}
		_, err = rtx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			w.apply(ctx, p, s.keys, first)
			p.Del(ctx, s.keys.committing())
			return nil
		})
		return err
	}, s.keys.lock())
	if errors.Is(err, goredis.TxFailedErr) {
		return errLockLost
	}
	return err
}

// run calls fn, turning a panic into an error.
func run(fn func(fhir.Tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("redis store: transaction function panicked: %v", p)
		}
	}()
	return fn(t)
}

// poll calls try until it reports done, backing off from 200 µs to 10 ms.
func poll(ctx context.Context, try func() (bool, error)) error {
	wait := 200 * time.Microsecond
	for {
		done, err := try()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Millisecond)
	}
}

// token returns a random identifier for a lock holder or reader.
func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}
