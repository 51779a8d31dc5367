package smart

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Recorder stores resources the server itself generates (fhir/rest.Service does).
type Recorder interface {
	Record(ctx context.Context, typ string, bodies [][]byte) error
}

// AuditLog records an AuditEvent for every FHIR access, refusals included. Events are
// written in batches, so that auditing a read does not cost the read a commit of its
// own; Close flushes what is queued. The queue is bounded: when the store cannot keep
// up, requests wait rather than events being dropped.
type AuditLog struct {
	rec      Recorder
	observer string
	logger   *slog.Logger
	queue    chan []byte
	done     chan struct{}
	// mu guards closed against requests still answered while the log closes: their
	// events are written directly instead of being queued.
	mu     sync.RWMutex
	closed bool
}

// auditBatch bounds one write of audit events.
const auditBatch = 1024

// AuditSearchParams are the AuditEvent search parameters an auditor uses: when, who
// (agent), about whom (patient), on what (entity), which interaction (subtype,
// action) and how it ended (outcome). The gateway indexes these only.
var AuditSearchParams = []string{"_id", "_lastUpdated", "date", "patient", "agent", "entity", "action", "outcome", "subtype", "type"}

// NewAuditLog starts the writer.
func NewAuditLog(rec Recorder, observer string, logger *slog.Logger) *AuditLog {
	l := &AuditLog{rec: rec, observer: observer, logger: logger, queue: make(chan []byte, 16384), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *AuditLog) run() {
	defer close(l.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var batch [][]byte
	flush := func() {
		if len(batch) == 0 {
			return
		}
		for attempt := 0; ; attempt++ {
			err := l.rec.Record(context.Background(), "AuditEvent", batch)
			if err == nil {
				break
			}
			// The events are kept and retried: an audit trail with holes is worse than
			// a slow one. The error names no patient data.
			l.logger.Error("audit write failed, retrying", "events", len(batch), "error", err.Error())
			time.Sleep(time.Duration(min(attempt+1, 20)) * 100 * time.Millisecond)
		}
		batch = batch[:0]
	}
	for {
		select {
		case ev, ok := <-l.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, ev)
			if len(batch) >= auditBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
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

// add queues an event, or writes it at once when the log is closing.
func (l *AuditLog) add(ev []byte) {
	l.mu.RLock()
	if !l.closed {
		l.queue <- ev
		l.mu.RUnlock()
		return
	}
	l.mu.RUnlock()
	if err := l.rec.Record(context.Background(), "AuditEvent", [][]byte{ev}); err != nil {
		l.logger.Error("audit write failed after close", "error", err.Error())
	}
}

// Middleware queues the AuditEvent of each request under base (the FHIR base path,
// e.g. /fhir) once it is answered.
func (l *AuditLog) Middleware(base string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		path := c.Request.URL.Path
		if path != base && !strings.HasPrefix(path, base+"/") || path == base+"/metadata" {
			return
		}
		rel := strings.TrimPrefix(path, base)
		a := Classify(c.Request.Method, rel)
		g := GrantFrom(c)
		req := AuditRequest{
			Method: c.Request.Method, Path: path, Query: c.Request.URL.RawQuery,
			Interaction: a.Interaction, ResourceType: a.ResourceType, ResourceID: a.ID,
			PatientID: auditPatient(g, a), Outcome: c.Writer.Status(), Recorded: time.Now().UTC(),
			Observer: l.observer, SourceAddress: c.ClientIP(),
		}
		l.add(AuditEvent(g, req))
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
