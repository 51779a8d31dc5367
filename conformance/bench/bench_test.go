package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/e2e"
)

// fakeGateway answers the three requests the load command sends, as FHIR R4 says
// (201 with Location, 200 read, 200 transaction-response), so that the driver and
// the report are tested without the real server.
func fakeGateway(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var mu sync.Mutex
	store := map[string][]byte{}
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/fhir/Patient":
			id := fmt.Sprint(posts.Add(1))
			mu.Lock()
			store[id] = body
			mu.Unlock()
			w.Header().Set("Location", "http://"+r.Host+"/fhir/Patient/"+id+"/_history/1")
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/fhir/Patient/"):
			mu.Lock()
			b, ok := store[strings.TrimPrefix(r.URL.Path, "/fhir/Patient/")]
			mu.Unlock()
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Header().Set("ETag", `W/"1"`)
			_, _ = w.Write(b)
		case r.Method == http.MethodPost && r.URL.Path == "/fhir/":
			if !strings.Contains(string(body), `"type":"transaction"`) || !strings.Contains(string(body), "urn:uuid:") {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"transaction-response"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &posts
}

// TestRunAgainstFakeGateway checks that every scenario is driven, bounded by
// Duration, and rendered.
func TestRunAgainstFakeGateway(t *testing.T) {
	srv, posts := fakeGateway(t)
	stopped := false
	start := time.Now()
	r, err := Run(context.Background(), Options{
		Gateway: func() (Target, error) {
			return Target{BaseURL: srv.URL + "/fhir", Stop: func() { stopped = true }}, nil
		},
		Duration:    200 * time.Millisecond,
		Concurrency: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !stopped {
		t.Error("Run must stop the gateway it started")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run with 4 × 200ms scenarios took %s: loops do not stop by themselves", took)
	}
	for _, s := range []Scenario{r.Bare, r.Reads, r.Creates, r.Transactions} {
		if s.Ops == 0 || s.Errors != 0 || s.PerSecond <= 0 || s.P50 <= 0 || s.P99 < s.P50 {
			t.Errorf("scenario %q: implausible figures %+v", s.Name, s)
		}
	}
	if int64(r.Creates.Ops) > posts.Load() {
		t.Errorf("%d creates counted but the gateway saw %d POSTs", r.Creates.Ops, posts.Load())
	}
	if want := r.Reads.PerSecond / r.Bare.PerSecond; r.ReadRatio != want {
		t.Errorf("ReadRatio %v, want %v", r.ReadRatio, want)
	}
	md := r.Markdown()
	for _, s := range []string{"| scenario |", "read Patient by id", "bare gin handler", "transaction Patient + Observation", "of the bare handler"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q:\n%s", s, md)
		}
	}
	t.Logf("\n%s", md)
}

// TestRunFailsOnWrongAnswers: once the gateway stops answering reads as FHIR says
// (500 after the seed read), Run must fail rather than report figures.
func TestRunFailsOnWrongAnswers(t *testing.T) {
	good, _ := fakeGateway(t)
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && gets.Add(1) > 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		good.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	_, err := Run(context.Background(), Options{
		Gateway:  func() (Target, error) { return Target{BaseURL: srv.URL + "/fhir"}, nil },
		Duration: 100 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "every request failed") {
		t.Fatalf("Run against a gateway answering reads with 500: want an error, got %v", err)
	}
}

// TestRunAgainstGateway drives the real binary for a short while: every request must
// get the answer FHIR specifies. Throughput is reported, not asserted (figures come
// from the load command and BenchmarkGateway, never from a timed test).
func TestRunAgainstGateway(t *testing.T) {
	bin, err := e2e.Build(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), Options{
		Gateway:     processGateway(t, bin),
		Duration:    time.Second,
		Concurrency: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Scenario{r.Reads, r.Creates, r.Transactions} {
		if s.Errors != 0 || s.Ops == 0 {
			t.Errorf("%s: %d ok, %d wrong answers", s.Name, s.Ops, s.Errors)
		}
	}
	t.Logf("\n%s", r.Markdown())
}

// processGateway starts the built binary on a fresh data directory.
func processGateway(tb testing.TB, bin string) func() (Target, error) {
	return func() (Target, error) {
		g, err := e2e.Start(context.Background(), bin, tb.TempDir())
		if err != nil {
			return Target{}, err
		}
		return Target{BaseURL: g.BaseURL, Token: g.Token, Stop: g.Stop}, nil
	}
}

// BenchmarkGateway runs the load command once against the real binary (5 s per
// scenario) and reports its figures as benchmark metrics:
//
//	go test ./conformance/bench -run '^$' -bench Gateway -benchtime 1x
func BenchmarkGateway(b *testing.B) {
	bin, err := e2e.Build(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := Run(context.Background(), Options{Gateway: processGateway(b, bin)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.Bare.PerSecond, "bare-reads/s")
		b.ReportMetric(r.Reads.PerSecond, "reads/s")
		b.ReportMetric(100*r.ReadRatio, "read-%-of-bare")
		b.ReportMetric(r.Creates.PerSecond, "creates/s")
		b.ReportMetric(r.Transactions.PerSecond, "tx/s")
		b.ReportMetric(float64(r.Transactions.P50.Microseconds())/1000, "tx-p50-ms")
		b.ReportMetric(float64(r.Transactions.P99.Microseconds())/1000, "tx-p99-ms")
		b.Logf("\n%s", r.Markdown())
	}
}

// The write cost between checkpoints is per resource loaded and per commit.
func TestWriteCostBetweenCheckpoints(t *testing.T) {
	prev := Checkpoint{Resources: 1000, Store: StoreMeasure{Commits: 10, PageWrites: 5000}}
	c := Checkpoint{Resources: 3000, Store: StoreMeasure{Commits: 20, PageWrites: 29000}}
	want := "main store writes since the previous checkpoint: 12.0 pages per resource loaded, 2400 pages and 200 resources per commit (10 commits)"
	if got := writeCost(prev, c); got != want {
		t.Errorf("writeCost = %q, want %q", got, want)
	}
}
