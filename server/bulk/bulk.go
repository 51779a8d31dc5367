// Package bulk implements FHIR Bulk Data Access 2.0 $export for the regional hub: the
// asynchronous kick-off at system, Patient and Group/{id} levels, status polling,
// NDJSON files (one per type) streamed from a store snapshot, cancellation, expiry,
// and jobs that survive a crash of the gateway.
//
// A job lives in its own directory under Dir: job.json (its state, rewritten
// atomically) and the NDJSON files. Nothing of it is in the FHIR store: starting,
// polling and downloading never write there.
package bulk

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Caller is the verified client of a request, as the authorization layer saw it.
type Caller struct {
	// ClientID identifies the OAuth client; every poll and download must come from the
	// client that started the export.
	ClientID string
	// System reports a SMART Backend Services grant: system/ scopes, no user, no patient
	// in context. Only such a client may start an export.
	System bool
}

type callerKey struct{}

// WithCaller returns ctx carrying the request's verified client.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok && c.ClientID != ""
}

// Config is what the exporter needs.
type Config struct {
	// Dir holds the jobs (--data/exports).
	Dir   string
	Store fhir.Store
	// Match returns the ids of typ matching a search query (the search engine's strict
	// matcher): _typeFilter and Group membership.
	Match func(tx fhir.Tx, typ, query string) ([]string, error)
	// Compartment names the search parameters linking typ to a Patient (nil: outside
	// the patient compartment).
	Compartment func(typ string) []string
	// BaseURL is the FHIR base (the manifest's request); FilesURL is where status and
	// files are served ({origin}/bulk).
	BaseURL, FilesURL string
	// StoreFile is the embedded store's file (bbolt, mmapped), whose pages an export
	// releases as it goes; empty for a store without one (Redis).
	StoreFile string
	// MaxJobs bounds the exports running at once (429 beyond); default 2.
	MaxJobs int
	// Expiry is how long a finished export's files are kept; default 24 h.
	Expiry time.Duration
	// RetryAfter is the polling interval suggested to clients; default 2 s.
	RetryAfter time.Duration
	Logger     *slog.Logger
}

// Manager runs the exports.
type Manager struct {
	cfg  Config
	mu   sync.Mutex
	jobs map[string]*job
	// running holds the cancel functions of the jobs being written.
	running map[string]context.CancelFunc
	wg      sync.WaitGroup
	ctx     context.Context
}

// New opens the job directory and reloads the jobs a previous run left: finished ones
// are served until they expire, interrupted ones are resumed by Run.
func New(cfg Config) (*Manager, error) {
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 2
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = 24 * time.Hour
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, jobs: map[string]*job{}, running: map[string]context.CancelFunc{}, ctx: context.Background()}
	dirs, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		j, err := loadJob(filepath.Join(cfg.Dir, d.Name()))
		if err != nil || j.State == stateCancelled {
			os.RemoveAll(filepath.Join(cfg.Dir, d.Name())) // half-created or cancelled
			continue
		}
		if j.State == stateRunning {
			j.Restarts++
		}
		m.jobs[j.ID] = j
	}
	return m, nil
}

// Run resumes the interrupted exports and deletes expired ones until ctx ends, then
// waits for the exports in flight to stop (they resume at the next start).
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.ctx = ctx
	for _, j := range m.jobs {
		if j.State == stateRunning {
			m.start(j)
		}
	}
	m.mu.Unlock()
	tick := time.NewTicker(min(m.cfg.Expiry/4, time.Minute))
	defer tick.Stop()
	for {
		m.expire(time.Now())
		select {
		case <-ctx.Done():
			m.wg.Wait()
			return
		case <-tick.C:
		}
	}
}

// expire deletes the finished exports older than the expiry.
func (m *Manager) expire(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, j := range m.jobs {
		if j.State != stateRunning && !j.Finished.IsZero() && now.After(j.Finished.Add(m.cfg.Expiry)) {
			delete(m.jobs, id)
			os.RemoveAll(m.dir(id))
		}
	}
}

func (m *Manager) dir(id string) string { return filepath.Join(m.cfg.Dir, id) }

// runningCount is the number of exports being written; m.mu held.
func (m *Manager) runningCount() int {
	n := 0
	for _, j := range m.jobs {
		if j.State == stateRunning {
			n++
		}
	}
	return n
}

// errorJSON answers an OperationOutcome (JSON) with status.
func writeError(w http.ResponseWriter, err error) {
	fe := fhir.AsError(err)
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(fe.Status)
	w.Write(fe.Outcome.JSON())
}
