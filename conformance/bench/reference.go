package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// reference is the reference write workload (the load test Blaze publishes): a
// transaction of one Patient (gender, random birthDate) and one Observation (LOINC
// 8480-6, systolic blood pressure, valueQuantity in mm[Hg]) that references it by
// urn:uuid, posted to the base.
func (d *driver) reference(ctx context.Context, w, i int) error {
	n := d.seq.Add(1)
	h := mix(n)
	gender := [...]string{"male", "female"}[h&1]
	birth := time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(h>>1%27000)).Format(time.DateOnly)
	body := fmt.Appendf(nil, `{"resourceType":"Bundle","type":"transaction","entry":[`+
		`{"fullUrl":"urn:uuid:%08x-0000-4000-8000-%012x","resource":{"resourceType":"Patient","gender":"%s","birthDate":"%s"},"request":{"method":"POST","url":"Patient"}},`+
		`{"fullUrl":"urn:uuid:%08x-0001-4000-8000-%012x","resource":{"resourceType":"Observation","status":"final",`+
		`"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},`+
		`"subject":{"reference":"urn:uuid:%08x-0000-4000-8000-%012x"},`+
		`"valueQuantity":{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},"request":{"method":"POST","url":"Observation"}}]}`,
		w, n, gender, birth, w, n, w, n, 90+h>>20%90)
	got, _, _, err := d.do(ctx, http.MethodPost, d.base, body)
	if err != nil {
		return err
	}
	if got != http.StatusOK {
		return fmt.Errorf("POST reference transaction: %d, want 200", got)
	}
	return nil
}

// mix is a cheap deterministic hash (splitmix64), for varied synthetic values.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Spread is min, median and max of a figure over the runs of a scenario.
type Spread struct{ Min, Median, Max float64 }

func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Spread{s[0], s[len(s)/2], s[len(s)-1]}
}

// String renders the spread as "median (min–max)".
func (s Spread) String() string { return s.format("%.0f") }

func (s Spread) format(f string) string {
	return fmt.Sprintf(f+" ("+f+"–"+f+")", s.Median, s.Min, s.Max)
}

// ms renders a spread of durations in milliseconds.
func (s Spread) ms() string { return s.format("%.1f") }

// WriteSeries is the reference workload at one number of clients, run several times.
type WriteSeries struct {
	// Variant names the gateway configuration (e.g. the commit strategy).
	Variant string
	Clients int
	// Runs are the measured runs; Bare the bare handler measured just before each,
	// with the same clients, as the machine's speed at that moment.
	Runs, Bare []Scenario
	// Load is the load average read before each run.
	Load []string
}

// TxPerSecond is the throughput over the runs.
func (w WriteSeries) TxPerSecond() Spread {
	return spreadOf(w.Runs, func(s Scenario) float64 { return s.PerSecond })
}

// P50 is the median latency (ms) over the runs.
func (w WriteSeries) P50() Spread {
	return spreadOf(w.Runs, func(s Scenario) float64 { return ms(s.P50) })
}

// P99 is the 99th percentile latency (ms) over the runs.
func (w WriteSeries) P99() Spread {
	return spreadOf(w.Runs, func(s Scenario) float64 { return ms(s.P99) })
}

// BarePerSecond is the bare handler's throughput measured before each run.
func (w WriteSeries) BarePerSecond() Spread {
	return spreadOf(w.Bare, func(s Scenario) float64 { return s.PerSecond })
}

func spreadOf(ss []Scenario, f func(Scenario) float64) Spread {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return spread(xs)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadAverage reads the machine's 1, 5 and 15 minute load averages ("?" elsewhere
// than Linux).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Variant is one gateway configuration the reference workload is run against.
type Variant struct {
	Name    string
	Gateway func() (Target, error)
}

// RunReference drives the reference write workload at each number of clients, runs
// times each, against each variant (each started once; its store grows across runs).
// At each number of clients the variants' runs alternate (a b a b …), and before each
// run the bare handler is driven with the same clients for a fifth of the duration,
// so that every figure carries a baseline taken on the same machine moments before.
func RunReference(ctx context.Context, opt Options, variants []Variant, clients []int, runs int) ([]WriteSeries, error) {
	opt.Gateway = func() (Target, error) { return Target{}, nil }
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	opt.Concurrency = slices.Max(clients)
	drivers := make([]*driver, len(variants))
	var bare *bareServer
	for i, v := range variants {
		target, err := v.Gateway()
		if err != nil {
			return nil, fmt.Errorf("bench: start gateway %s: %w", v.Name, err)
		}
		if target.Stop != nil {
			defer target.Stop()
		}
		d := newDriver(strings.TrimSuffix(target.BaseURL, "/"), target.Token, opt)
		defer d.close()
		seed, err := d.seedPatient(ctx)
		if err != nil {
			return nil, err
		}
		if bare == nil {
			if bare, err = startBare(seed); err != nil {
				return nil, err
			}
			defer bare.stop()
		}
		drivers[i] = d
	}
	var out []WriteSeries
	for _, c := range clients {
		series := make([]WriteSeries, len(variants))
		for i := range variants {
			series[i] = WriteSeries{Variant: variants[i].Name, Clients: c}
			dc := *drivers[i]
			dc.opt.Concurrency = c
			if _, _, err := dc.loop(ctx, dc.reference, opt.Warmup, 1<<30); err != nil {
				return nil, err
			}
		}
		for r := range runs {
			for i := range variants {
				dc := *drivers[i]
				dc.opt.Concurrency = c
				ws := &series[i]
				ws.Load = append(ws.Load, loadAverage())
				bc := dc
				bc.opt.Duration = max(opt.Duration/5, 200*time.Millisecond)
				b, err := bc.measureOnly(ctx, "bare handler", bc.getExpect(bare.url, http.StatusOK))
				if err != nil {
					return nil, err
				}
				sc, err := dc.measureOnly(ctx, fmt.Sprintf("reference transaction, %d clients", c), dc.reference)
				if err != nil {
					return nil, err
				}
				ws.Runs, ws.Bare = append(ws.Runs, sc), append(ws.Bare, b)
				opt.Logf("bench: reference %s %d clients run %d: %.0f tx/s p50 %s p99 %s errors %d (bare %.0f/s, load %s)",
					ws.Variant, c, r+1, sc.PerSecond, sc.P50, sc.P99, sc.Errors, b.PerSecond, ws.Load[r])
			}
		}
		out = append(out, series...)
	}
	return out, nil
}

// measureOnly is measure without the warmup.
func (d *driver) measureOnly(ctx context.Context, name string, o op) (Scenario, error) {
	start := time.Now()
	lat, errs, err := d.loop(ctx, o, d.opt.Duration, 1<<60)
	if err != nil {
		return Scenario{}, err
	}
	return scenario(name, lat, errs, time.Since(start)), nil
}

// ReferenceMarkdown renders the reference workload as a table.
func ReferenceMarkdown(series []WriteSeries) string {
	var b strings.Builder
	b.WriteString("| store commit | clients | tx/s | p50 ms | p99 ms | bare handler req/s (same clients, just before) | errors | load average before each run |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, w := range series {
		errs := 0
		for _, r := range w.Runs {
			errs += r.Errors
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %d | %s |\n", w.Variant, w.Clients, w.TxPerSecond(), w.P50().ms(), w.P99().ms(), w.BarePerSecond(), errs, strings.Join(w.Load, "; "))
	}
	b.WriteString("\nEach cell: median (min–max) of the runs.\n")
	return b.String()
}
