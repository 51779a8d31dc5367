package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// StoreMeasure is what the gateway's store holds at a checkpoint.
type StoreMeasure struct {
	// File is the main store file's size; AuditFile the audit trail's.
	File, AuditFile int64
	// Versions and Current count stored versions and resources; IndexRows the
	// search index rows, in IndexGenerations generations (fhir/bolt generations.go).
	Versions, Current, IndexRows, IndexKeyBytes int64
	IndexGenerations                            int
	// ByKind splits the main store by kind of row.
	ByKind []Kind
	// RSS is the resident memory of the gateway's process.
	RSS int64
	// Commits and PageWrites count the main store's commits and page writes since it
	// was opened (what the load cost the disk).
	Commits, PageWrites int64
}

// Kind is the bytes of one kind of row.
type Kind struct {
	Name  string
	Bytes int64
}

// ScaleOptions configure the scale mode.
type ScaleOptions struct {
	Gateway func() (Target, error)
	// Checkpoints are the resource counts at which loading pauses to measure.
	Checkpoints []int
	// Bundle is the number of entries per transaction; Loaders the clients loading.
	Bundle, Loaders int
	// Runs of each query measurement at each checkpoint; Requests per run.
	Runs, Requests int
	// MaxLoad stops loading after this long (the report says how far it got).
	MaxLoad time.Duration
	Logf    func(format string, args ...any)
}

// Checkpoint is the measurement at one store size.
type Checkpoint struct {
	Resources int
	// LoadRate is resources per second since the previous checkpoint.
	LoadRate float64
	Store    StoreMeasure
	Queries  []QuerySeries
	Load     []string
}

// QuerySeries is one query measured Runs times with one client.
type QuerySeries struct {
	Name     string
	P50, P99 Spread // milliseconds
	Errors   int
	Results  float64 // mean matches per request (Bundle.total or entries), to show selectivity
}

// ScaleReport is the result of the scale mode.
type ScaleReport struct {
	Bundle, Loaders int
	Checkpoints     []Checkpoint
	// Stopped says why loading stopped before the last checkpoint, if it did.
	Stopped string
	// Bare is the bare handler's p50 (ms) measured with each query run, one client.
	Bare Spread
}

// RunScale loads resources of realistic shape through transactions of opt.Bundle
// entries and measures the store, reads and selective searches at each checkpoint.
func RunScale(ctx context.Context, opt ScaleOptions) (*ScaleReport, error) {
	if opt.Gateway == nil || len(opt.Checkpoints) == 0 {
		return nil, errors.New("bench: scale needs a gateway and checkpoints")
	}
	opt.Runs, opt.Requests = max(opt.Runs, 1), max(opt.Requests, 60)
	opt.Loaders, opt.Bundle = max(opt.Loaders, 1), max(opt.Bundle, 13)
	if opt.MaxLoad <= 0 {
		opt.MaxLoad = 30 * time.Minute
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	target, err := opt.Gateway()
	if err != nil {
		return nil, fmt.Errorf("bench: start gateway: %w", err)
	}
	if target.Stop != nil {
		defer target.Stop()
	}
	d := newDriver(strings.TrimSuffix(target.BaseURL, "/"), target.Token, Options{Concurrency: opt.Loaders, Duration: time.Second})
	defer d.close()
	seed, err := d.seedPatient(ctx)
	if err != nil {
		return nil, err
	}
	bare, err := startBare(seed)
	if err != nil {
		return nil, err
	}
	defer bare.stop()

	l := &loader{d: d, bundle: opt.Bundle}
	rep := &ScaleReport{Bundle: opt.Bundle, Loaders: opt.Loaders}
	deadline := time.Now().Add(opt.MaxLoad)
	var bareP50s []float64
	for _, cp := range opt.Checkpoints {
		start, from := time.Now(), l.loaded()
		if err := l.loadUpTo(ctx, cp, opt.Loaders, deadline); err != nil {
			return nil, err
		}
		rate := float64(l.loaded()-from) / time.Since(start).Seconds()
		c := Checkpoint{Resources: l.loaded(), LoadRate: rate}
		opt.Logf("bench: scale: %d resources, %.0f resources/s since the last checkpoint", c.Resources, rate)
		if target.Measure != nil {
			if c.Store, err = target.Measure(ctx); err != nil {
				return nil, err
			}
		}
		queries := l.queries()
		acc := make([][2][]float64, len(queries))
		errs := make([]int, len(queries))
		results := make([]int, len(queries)) // matches summed over the answered requests
		answered := make([]int, len(queries))
		for r := 0; r < opt.Runs; r++ {
			c.Load = append(c.Load, loadAverage())
			for qi, q := range queries {
				var lat []time.Duration
				for i := 0; i < opt.Requests; i++ {
					u := d.base + q.path(i)
					t0 := time.Now()
					status, body, _, err := d.do(ctx, http.MethodGet, u, nil)
					el := time.Since(t0)
					if err != nil || status != http.StatusOK {
						errs[qi]++
						continue
					}
					lat = append(lat, el)
					results[qi] += matches(body)
					answered[qi]++
				}
				sc := scenario(q.name, lat, 0, time.Second)
				acc[qi][0] = append(acc[qi][0], ms(sc.P50))
				acc[qi][1] = append(acc[qi][1], ms(sc.P99))
			}
			var bl []time.Duration
			for i := 0; i < opt.Requests; i++ {
				t0 := time.Now()
				if status, _, _, err := d.do(ctx, http.MethodGet, bare.url, nil); err == nil && status == http.StatusOK {
					bl = append(bl, time.Since(t0))
				}
			}
			bareP50s = append(bareP50s, ms(scenario("bare", bl, 0, time.Second).P50))
		}
		for qi, q := range queries {
			c.Queries = append(c.Queries, QuerySeries{Name: q.name, P50: spread(acc[qi][0]), P99: spread(acc[qi][1]), Errors: errs[qi],
				Results: float64(results[qi]) / float64(max(answered[qi], 1))})
		}
		rep.Checkpoints = append(rep.Checkpoints, c)
		if l.loaded() < cp {
			rep.Stopped = fmt.Sprintf("loading stopped at %d resources after %s (-max-load)", l.loaded(), opt.MaxLoad)
			break
		}
	}
	rep.Bare = spread(bareP50s)
	return rep, nil
}

// matches reads Bundle.total, or counts entries, of a search answer (1 for a read).
func matches(body []byte) int {
	var b struct {
		Type  string            `json:"resourceType"`
		Total *int              `json:"total"`
		Entry []json.RawMessage `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil || b.Type != "Bundle" {
		return 1
	}
	if b.Total != nil {
		return *b.Total
	}
	return len(b.Entry)
}

// query is one measured request, varied over the loaded patients.
type query struct {
	name string
	path func(i int) string
}

// queries are the scale mode's reads and selective searches over sampled patients.
func (l *loader) queries() []query {
	l.mu.Lock()
	pts := append([]loadedPatient(nil), l.sample...)
	l.mu.Unlock()
	p := func(i int) loadedPatient { return pts[i%len(pts)] }
	return []query{
		{"read Patient by id", func(i int) string { return "/Patient/" + p(i).id }},
		{"Patient?identifier=system|value", func(i int) string {
			return "/Patient?identifier=" + url.QueryEscape(mrnSystem+"|"+p(i).mrn)
		}},
		{"Observation?subject=Patient/x&code=loinc|8480-6", func(i int) string {
			return "/Observation?subject=Patient/" + p(i).id + "&code=" + url.QueryEscape("http://loinc.org|8480-6")
		}},
		{"Observation?subject=Patient/x&_sort=-date&_count=10", func(i int) string {
			return "/Observation?subject=Patient/" + p(i).id + "&_sort=-date&_count=10"
		}},
		{"Patient?_has:Observation:subject:code=<code of ~1% of patients>&_count=20", func(int) string {
			return "/Patient?_has:Observation:subject:code=" + url.QueryEscape("http://loinc.org|"+rareCode) + "&_count=20"
		}},
		{"Patient?name=<common prefix>&_count=20", func(i int) string {
			return "/Patient?name=" + commonFamilies[i%4][:3] + "&_count=20"
		}},
	}
}

// Markdown renders the scale report.
func (r *ScaleReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scale mode: transactions of %d entries, %d loading clients; each query 1 client, runs of sequential requests, median (min–max) of the runs' p50 in ms; bare handler p50 in the same runs: %s ms.\n\n",
		r.Bundle, r.Loaders, r.Bare.format("%.2f"))
	var prev Checkpoint
	for _, c := range r.Checkpoints {
		s := c.Store
		fmt.Fprintf(&b, "### %d resources\n\n", c.Resources)
		fmt.Fprintf(&b, "- load rate since the previous checkpoint: %.0f resources/s\n", c.LoadRate)
		if s.PageWrites > 0 {
			fmt.Fprintf(&b, "- %s\n", writeCost(prev, c))
		}
		prev = c
		if s.File > 0 && c.Resources > 0 {
			fmt.Fprintf(&b, "- main store file: %.1f MB, %.0f bytes per resource (%d versions of %d resources); audit trail file: %.1f MB\n",
				mb(s.File), float64(s.File)/float64(c.Resources), s.Versions, s.Current, mb(s.AuditFile))
			fmt.Fprintf(&b, "- search index: %d rows, %.1f per resource, keys of %.0f bytes on average; index generations: %d\n", s.IndexRows, float64(s.IndexRows)/float64(c.Resources), float64(s.IndexKeyBytes)/float64(max(s.IndexRows, 1)), s.IndexGenerations)
			for _, k := range s.ByKind {
				fmt.Fprintf(&b, "  - %s: %.1f MB, %.0f bytes per resource\n", k.Name, mb(k.Bytes), float64(k.Bytes)/float64(c.Resources))
			}
		}
		if s.RSS > 0 {
			fmt.Fprintf(&b, "- RSS of the process (gateway and load generator together; includes the pages of the store file it has mapped): %.0f MB\n", mb(s.RSS))
		}
		fmt.Fprintf(&b, "- load average before each run: %s\n\n", strings.Join(c.Load, "; "))
		b.WriteString("| query | mean matches | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|\n")
		for _, q := range c.Queries {
			fmt.Fprintf(&b, "| `%s` | %.1f | %s | %s | %d |\n", q.Name, q.Results, q.P50.format("%.2f"), q.P99.format("%.2f"), q.Errors)
		}
		b.WriteString("\n")
	}
	if r.Stopped != "" {
		fmt.Fprintf(&b, "%s\n", r.Stopped)
	}
	return b.String()
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// loader posts the synthetic population, and keeps a sample of the patients it
// created for the queries.
type loader struct {
	d      *driver
	bundle int
	mu     sync.Mutex
	count  int // resources created
	next   int // next patient number
	sample []loadedPatient
}

type loadedPatient struct{ id, mrn string }

func (l *loader) loaded() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// loadUpTo posts transactions from clients until target resources are stored (or
// the deadline passes).
func (l *loader) loadUpTo(ctx context.Context, target, clients int, deadline time.Time) error {
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				l.mu.Lock()
				if l.count >= target {
					l.mu.Unlock()
					return
				}
				first := l.next
				l.next += l.bundle / 13
				l.mu.Unlock()
				body, n := population(l.d.run, first, l.bundle)
				status, resp, _, err := l.d.do(ctx, http.MethodPost, l.d.base, body)
				if err != nil || status != http.StatusOK {
					errc <- fmt.Errorf("bench: scale transaction: %d %v: %.300s", status, err, resp)
					return
				}
				pts := patientsOf(resp, l.d.run, first)
				l.mu.Lock()
				l.count += n
				for _, p := range pts {
					if len(l.sample) < 200 {
						l.sample = append(l.sample, p)
					} else if h := mix(uint64(l.count)); h%8 == 0 {
						l.sample[h>>8%200] = p
					}
				}
				l.mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// patientsOf reads the Patients' ids from a transaction-response: entries of a
// population bundle start each patient's group with its Patient.
func patientsOf(resp []byte, run string, first int) []loadedPatient {
	var b struct {
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if json.Unmarshal(resp, &b) != nil {
		return nil
	}
	var out []loadedPatient
	n := first
	for _, e := range b.Entry {
		if loc := e.Response.Location; strings.HasPrefix(loc, "Patient/") || strings.Contains(loc, "/Patient/") {
			out = append(out, loadedPatient{id: idFromLocation(loc), mrn: mrn(run, n)})
			n++
		}
	}
	return out
}

// writeCost describes the main store's writes between two checkpoints: page writes
// per resource loaded and per commit, and resources per commit.
func writeCost(prev, c Checkpoint) string {
	loaded := float64(c.Resources - prev.Resources)
	pages := float64(c.Store.PageWrites - prev.Store.PageWrites)
	out := fmt.Sprintf("main store writes since the previous checkpoint: %.1f pages per resource loaded", pages/max(loaded, 1))
	if commits := float64(c.Store.Commits - prev.Store.Commits); commits > 0 {
		out += fmt.Sprintf(", %.0f pages and %.0f resources per commit (%.0f commits)", pages/commits, loaded/commits, commits)
	}
	return out
}
