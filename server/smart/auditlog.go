package smart

import (
	"context"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/search"
)

// AuditLog records an AuditEvent for every FHIR access, refusals included. The
// request only queues what it did; one writer renders the events, validates them
// (auditCheck), and stores them in group commits with their index entries built by
// construction, so that auditing a read costs a few microseconds rather than a
// commit, a schema validation and a FHIRPath evaluation of its own. An event is
// committed at most auditGather plus a commit after its request is answered (what a
// crash can lose);
// Close flushes what is queued. The queue is bounded: when the store cannot keep up,
// requests wait rather than events being dropped.
type AuditLog struct {
	store    fhir.Store
	check    *auditCheck
	observer string
	logger   *slog.Logger
	queue    chan pendingAudit
	done     chan struct{}
	wmu      sync.Mutex // guards ids, events and arena, and keeps writes in id order
	ids      auditIDs
	// events and arena are reused from batch to batch: rendered events, and their bodies
	events []renderedAudit
	arena  []byte
	refs   search.RefCache
	// mu guards closed against requests still answered while the log closes: their
	// events are written directly instead of being queued.
	mu     sync.RWMutex
	closed bool
}

// pendingAudit is an access waiting to be written.
type pendingAudit struct {
	grant *Grant
	req   AuditRequest
}

// auditBatch bounds one write of audit events, and auditGather how long the writer
// gathers events for one (see run).
const (
	auditBatch  = 1024
	auditGather = 50 * time.Millisecond
)

// AuditSearchParams are the AuditEvent search parameters an auditor uses: when, who
// (agent), about whom (patient), on what (entity), which interaction (subtype,
// action) and how it ended (outcome). The gateway indexes these only, and builds
// their entries itself (TestAuditEntriesMatchIndex checks them against FHIRPath).
var AuditSearchParams = []string{"_id", "_lastUpdated", "date", "patient", "agent", "entity", "action", "outcome", "subtype", "type"}

// NewAuditLog starts the writer. Events go to store (the audit trail's own store, or
// the gateway's), each validated by v first.
func NewAuditLog(store fhir.Store, v EventValidator, observer string, logger *slog.Logger) *AuditLog {
	l := &AuditLog{store: store, check: newAuditCheck(v), observer: observer, logger: logger,
		queue: make(chan pendingAudit, 16384), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *AuditLog) run() {
	defer close(l.done)
	batch := make([]pendingAudit, 0, auditBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		// Group commit: wait for one access, gather what comes in the next
		// auditGather (or a full batch), commit. A commit has a cost of its own (the
		// posting rows of the values every event shares, the fsync), so batches are
		// gathered rather than committed one by one; and an event waits at most
		// auditGather plus a commit: what a crash can lose.
		p, ok := <-l.queue
		if !ok {
			return
		}
		batch = append(batch[:0], p)
		timer.Reset(auditGather)
	gather:
		for len(batch) < auditBatch {
			// plain receives for what is already queued, cheaper than a select each
			for n := len(l.queue); n > 0 && len(batch) < auditBatch; n-- {
				p, ok := <-l.queue
				if !ok {
					break gather // closed: this batch is the last
				}
				batch = append(batch, p)
			}
			if len(batch) >= auditBatch {
				break
			}
			select {
			case p, ok := <-l.queue:
				if !ok {
					break gather
				}
				batch = append(batch, p)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		l.write(batch)
	}
}

// write renders, validates and stores a batch in one store transaction, retrying
// until the store takes it: an audit trail with holes is worse than a slow one.
func (l *AuditLog) write(batch []pendingAudit) {
	l.wmu.Lock() // uncontended but while the log closes (direct writes)
	defer l.wmu.Unlock()
	now := time.Now().UTC()
	if cap(l.events) < len(batch) {
		l.events = make([]renderedAudit, len(batch))
	}
	events := l.events[:0]
	arena := l.arena[:0] // the bodies: the store has copied the last batch's
	for _, p := range batch {
		events = events[:len(events)+1]
		a := &events[len(events)-1]
		arena = a.render(&l.refs, arena, p.grant, p.req, l.ids.next(now), now, false)
		if oo := l.check.check(a, p); oo != nil {
			// Values are cleaned to their types and every shape is tested, so this is a
			// bug: say where, never what (no patient data in logs).
			for _, is := range oo.Issue {
				l.logger.Error("audit event failed validation, not stored", "expression", strings.Join(is.Expression, ","), "diagnostics", is.Diagnostics)
			}
			events = events[:len(events)-1]
			continue
		}
	}
	l.arena = arena
	for attempt := 0; ; attempt++ {
		err := l.store.Update(context.Background(), func(tx fhir.Tx) error {
			for i := range events {
				rec, entries := events[i].record()
				if err := tx.Put(rec, entries); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return
		}
		// The error names no patient data.
		l.logger.Error("audit write failed, retrying", "events", len(events), "error", err.Error())
		time.Sleep(time.Duration(min(attempt+1, 20)) * 100 * time.Millisecond)
	}
}

// Close flushes the queued events and stops the writer. Closing twice is harmless.
func (l *AuditLog) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.queue)
	}
	l.mu.Unlock()
	<-l.done
}

// add queues an access, or writes its event at once when the log is closing.
func (l *AuditLog) add(p pendingAudit) {
	l.mu.RLock()
	if !l.closed {
		l.queue <- p
		l.mu.RUnlock()
		return
	}
	l.mu.RUnlock()
	l.write([]pendingAudit{p})
}

// Middleware queues the AuditEvent of each request under base (the FHIR base path,
// e.g. /fhir), under /bulk/ and to /admin/backup, once it is answered.
func (l *AuditLog) Middleware(base string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		path := c.Request.URL.Path
		// outside the FHIR base, the Bulk Data status and files and the backup hand
		// out every patient's data: they are recorded too (as the path and method)
		outside := strings.HasPrefix(path, "/bulk/") || path == "/admin/backup"
		if !outside && (path != base && !strings.HasPrefix(path, base+"/") || path == base+"/metadata") {
			return
		}
		rel := strings.TrimPrefix(path, base)
		if outside {
			rel = ""
		}
		a := Classify(c.Request.Method, rel)
		g := GrantFrom(c)
		l.add(pendingAudit{grant: g, req: AuditRequest{
			Method: c.Request.Method, Path: path, Query: c.Request.URL.RawQuery,
			Interaction: a.Interaction, ResourceType: a.ResourceType, ResourceID: a.ID,
			PatientID: auditPatient(g, a), Outcome: c.Writer.Status(), Recorded: time.Now().UTC(),
			Observer: l.observer, SourceAddress: c.ClientIP(),
		}})
	}
}

// auditPatient names the patient whose data a request reached, when it is known.
func auditPatient(g *Grant, a Access) string {
	switch {
	case a.Compartment != "":
		return a.Compartment
	case a.ResourceType == "Patient" && a.ID != "":
		return a.ID
	}
	return g.PatientContext()
}

// auditIDs issues AuditEvent ids: UUIDv7 whose 12 bits after the version count
// within the millisecond (RFC 9562 §6.2, method 1), so that ids only grow. The audit
// store walks ids as it walks time.
type auditIDs struct {
	lastMs int64
	seq    uint16
}

func (g *auditIDs) next(now time.Time) string {
	ms := now.UnixMilli()
	if ms <= g.lastMs {
		g.seq++
		if g.seq >= 1<<12 { // 4,096 ids in one millisecond: borrow the next one
			g.lastMs++
			g.seq = 0
		}
		ms = g.lastMs
	} else {
		g.lastMs, g.seq = ms, 0
	}
	var b [16]byte
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = 0x70 | byte(g.seq>>8)
	b[7] = byte(g.seq)
	r := rand.Uint64()
	for i := 8; i < 16; i++ {
		b[i] = byte(r >> (8 * (15 - i)))
	}
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	hex.Encode(out[9:13], b[4:6])
	hex.Encode(out[14:18], b[6:8])
	hex.Encode(out[19:23], b[8:10])
	hex.Encode(out[24:36], b[10:16])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}
