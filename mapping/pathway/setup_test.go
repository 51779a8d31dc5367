package pathway

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
)

// recorder is a Notifier that keeps the notices and warns, as the real one must, of
// a role nobody holds.
type recorder struct {
	mu      sync.Mutex
	notices []Notice
}

func (r *recorder) Notify(_ context.Context, _ *rest.Writer, n Notice) ([]fhir.Issue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	var issues []fhir.Issue
	for _, to := range n.Recipients {
		if to.Reference == "" {
			issues = append(issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: "not-found",
				Diagnostics: n.Code + ": nobody holds the role " + to.Role + " (" + n.SeedSection + ")"})
		}
	}
	return issues, nil
}

// take returns and forgets the notices recorded since the last call.
func (r *recorder) take() []Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.notices
	r.notices = nil
	return out
}

// world is a gateway with the pathway hook installed and a settable clock.
type world struct {
	svc   *rest.Service
	notes *recorder
	now   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{notes: &recorder{}, now: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)}
	w.svc = resttest.Service(t, 50)
	// the clinical checks are tested on patients without a pathway (see pathway_test.go for those with one)
	w.svc.Hooks = []rest.WriteHook{&Hook{Notifier: w.notes, StepsWithoutPathway: true}}
	w.svc.Now = func() time.Time { return w.now }
	return w
}

var ctx = context.Background()

// create posts a resource as an EHR would and returns its "Type/id".
func (w *world) create(t *testing.T, body string) string {
	t.Helper()
	typ := decode([]byte(body))["resourceType"].(string)
	resp, err := w.svc.Create(ctx, &rest.Request{Method: "POST", Type: typ, Body: []byte(body)})
	if err != nil {
		t.Fatalf("create %s: %s", typ, fhir.AsError(err).Outcome.JSON())
	}
	return typ + "/" + resp.Record.ID
}

// search returns the bodies of typ matching query.
func (w *world) search(t *testing.T, typ, query string) [][]byte {
	t.Helper()
	out, err := ServiceRecords{Ctx: ctx, Service: w.svc}.Search(typ, query)
	if err != nil {
		t.Fatalf("search %s?%s: %v", typ, query, err)
	}
	return out
}

// count is the number of current resources of typ.
func (w *world) count(t *testing.T, typ string) int {
	t.Helper()
	n := 0
	err := w.svc.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		n, err = tx.Count(typ)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
