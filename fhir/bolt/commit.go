package bolt

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"
)

// errClosed answers the writes still queued when the store closes.
var errClosed = errors.New("bolt: store closed")

// committer is the group commit of a Store: one goroutine runs the queued writes in
// one bbolt transaction and one commit (one pair of fsyncs), then takes whatever was
// queued while that commit ran, and so on. It adapts to load by construction: a lone
// writer is committed at once, with no batching delay (bbolt's Batch waits
// MaxBatchDelay for company), and under concurrency a batch is every write that
// arrived during the previous fsync, so the fsync cost is shared by as many writes as
// the load brings, up to maxSize.
//
// Each write is acknowledged only after the commit that holds it returned, that is
// after its fsync: durability is that of db.Update.
type committer struct {
	db      *bbolt.DB
	maxSize int
	queue   chan *call
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	commits atomic.Uint64 // transactions committed or rolled back, for tests
}

// call is one queued write: fn runs inside the shared transaction; its outcome goes
// to result.
type call struct {
	ctx    context.Context
	fn     func(*bbolt.Tx) error
	result chan error
}

func newCommitter(db *bbolt.DB, maxSize int) *committer {
	c := &committer{db: db, maxSize: max(maxSize, 1), queue: make(chan *call, 4*max(maxSize, 1)),
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// update queues fn and waits for the commit that holds it. fn may run more than once
// (when another write of its batch fails, the batch is rolled back and run again
// without it), as with bbolt's Batch.
func (c *committer) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	cl := &call{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case c.queue <- cl:
	case <-c.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the write is answered by the loop: waiting for that answer, rather
	// than for ctx, tells the caller truly whether it committed.
	select {
	case err := <-cl.result:
		return err
	case <-c.done:
		// the loop has stopped: it answered before stopping, or never saw the call
		select {
		case err := <-cl.result:
			return err
		default:
			return errClosed
		}
	}
}

// loop commits batches until close.
func (c *committer) loop() {
	defer close(c.done)
	batch := make([]*call, 0, c.maxSize)
	for {
		select {
		case cl := <-c.queue:
			batch = append(batch[:0], cl)
		case <-c.stop:
			c.drain()
			return
		}
	fill:
		for len(batch) < c.maxSize {
			select {
			case cl := <-c.queue:
				batch = append(batch, cl)
			default:
				break fill
			}
		}
		c.commit(batch)
	}
}

// commit runs batch in one transaction. A write whose fn fails is taken out and run
// alone, so that its error (and its rollback) is its own, and the others are run
// again without it.
func (c *committer) commit(batch []*call) {
	live := batch[:0]
	for _, cl := range batch {
		if err := cl.ctx.Err(); err != nil {
			cl.result <- err // gave up while queued: never runs
			continue
		}
		live = append(live, cl)
	}
	for len(live) > 0 {
		failed := -1
		c.commits.Add(1)
		err := c.db.Update(func(tx *bbolt.Tx) error {
			for i, cl := range live {
				if err := cl.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, cl := range live {
				cl.result <- err // nil, or the commit's own error (e.g. disk full) for all
			}
			return
		}
		if len(live) == 1 {
			live[0].result <- err
			return
		}
		alone := live[failed]
		live = append(live[:failed:failed], live[failed+1:]...)
		c.commits.Add(1)
		alone.result <- c.db.Update(alone.fn)
	}
}

// drain answers every write still queued at close.
func (c *committer) drain() {
	for {
		select {
		case cl := <-c.queue:
			cl.result <- errClosed
		default:
			return
		}
	}
}

// close stops the loop after the batch in progress; writes queued later fail.
func (c *committer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}
