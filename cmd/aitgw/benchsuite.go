package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/conformance/bench"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/server/smart"
)

// benchSuite holds the flags of the benchmark suite of aitgw bench: the reference
// write workload at several numbers of clients, and the scale mode.
type benchSuite struct {
	reference  string // clients, comma-separated; empty: not run
	scale      string // checkpoints, comma-separated resource counts; empty: not run
	runs       int
	bundle     int
	loaders    int
	maxLoadDur time.Duration
	// reads, when set, also measures reads by id against the bare handler.
	reads bool
	// compareDelay, when set, also runs the reference workload on a store committing
	// with bbolt's Batch and this delay (the strategy before the group commit).
	compareDelay time.Duration
}

func suiteFlags(fs *flag.FlagSet) *benchSuite {
	s := &benchSuite{}
	fs.StringVar(&s.reference, "reference", "", "run the reference write workload (Patient + Observation 8480-6 transaction) at these numbers of clients, e.g. 1,8,32,64")
	fs.StringVar(&s.scale, "scale", "", "load resources of realistic shape up to these checkpoints (e.g. 10000,100000) and measure size, reads and searches at each")
	fs.IntVar(&s.runs, "runs", 3, "runs of each scenario (min, median and max are reported)")
	fs.IntVar(&s.bundle, "bundle", 200, "entries per transaction in the scale mode (100 to 500)")
	fs.IntVar(&s.loaders, "loaders", 4, "concurrent clients loading in the scale mode")
	fs.BoolVar(&s.reads, "reads", false, "also measure reads by id, alternating with the bare handler (16 clients)")
	fs.DurationVar(&s.compareDelay, "compare-batch-delay", 0, "also run the reference workload on a store using bbolt's Batch with this delay (e.g. 2ms, the commit of earlier versions), alternating runs")
	fs.DurationVar(&s.maxLoadDur, "max-load", 30*time.Minute, "the scale mode stops loading (and reports what it reached) after this long")
	return s
}

func (s *benchSuite) wanted() bool { return s.reference != "" || s.scale != "" || s.reads }

// run runs the suite's scenarios on in-process gateways under dir, over loopback.
func (s *benchSuite) run(dir string, dur time.Duration, noAudit bool) int {
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	ctx := context.Background()
	fmt.Printf("aitgw bench: %d CPUs, load average at start %s, duration %s per run, %d runs\n\n", runtime.NumCPU(), readLoad(), dur, s.runs)
	if s.reads {
		fmt.Printf("Reads by id against the bare handler, 16 clients, alternating 1 s slices; %d runs:\n\n", s.runs)
		fmt.Printf("| run | load average before | bare handler req/s | reads req/s | reads / bare | read p50 | read p99 | errors |\n|---:|---|---:|---:|---:|---:|---:|---:|\n")
		var ratios []float64
		for i := range s.runs {
			load := readLoad()
			r, err := bench.Run(ctx, bench.Options{Duration: dur, Logf: logf, Only: []string{"read"},
				Gateway: func() (bench.Target, error) { return startSuiteGateway(fmt.Sprintf("%s/reads-%d", dir, i), noAudit) }})
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				return 1
			}
			ratios = append(ratios, r.ReadRatio)
			fmt.Printf("| %d | %s | %.0f | %.0f | %.0f %% | %s | %s | %d |\n", i+1, load, r.Bare.PerSecond, r.Reads.PerSecond, 100*r.ReadRatio,
				r.Reads.P50.Round(time.Microsecond), r.Reads.P99.Round(time.Microsecond), r.Bare.Errors+r.Reads.Errors)
		}
		slices.Sort(ratios)
		fmt.Printf("\nReads / bare: median %.0f %% (%.0f–%.0f %%).\n\n", 100*ratios[len(ratios)/2], 100*ratios[0], 100*ratios[len(ratios)-1])
	}
	if s.reference != "" {
		clients, err := ints(s.reference)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -reference:", err)
			return 2
		}
		variants := []bench.Variant{{Name: "group commit", Gateway: func() (bench.Target, error) {
			return startSuiteGateway(dir+"/reference", noAudit)
		}}}
		if s.compareDelay > 0 {
			variants = append(variants, bench.Variant{Name: fmt.Sprintf("bbolt Batch, %s delay (before)", s.compareDelay), Gateway: func() (bench.Target, error) {
				return startSuiteGateway(dir+"/reference-batch", noAudit, bolt.WithFixedBatchDelay(s.compareDelay))
			}})
		}
		series, err := bench.RunReference(ctx, bench.Options{Duration: dur, Logf: logf}, variants, clients, s.runs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Println("Reference write workload (transaction: Patient + Observation 8480-6 by urn:uuid):")
		fmt.Println()
		fmt.Print(bench.ReferenceMarkdown(series))
		fmt.Println()
	}
	if s.scale != "" {
		points, err := ints(s.scale)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -scale:", err)
			return 2
		}
		if s.bundle < 100 || s.bundle > 500 {
			fmt.Fprintln(os.Stderr, "bench: -bundle must be between 100 and 500")
			return 2
		}
		rep, err := bench.RunScale(ctx, bench.ScaleOptions{Checkpoints: points, Bundle: s.bundle, Loaders: s.loaders, Runs: s.runs,
			MaxLoad: s.maxLoadDur, Logf: logf,
			Gateway: func() (bench.Target, error) { return startSuiteGateway(dir+"/scale", noAudit) }})
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Print(rep.Markdown())
	}
	return 0
}

// startSuiteGateway serves a gateway on a free loopback port, with an operator token
// and the store's measures: the main store's space by kind of row, the audit file's
// size, and the process's RSS.
func startSuiteGateway(dir string, withoutAudit bool, opts ...bolt.Option) (bench.Target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bench.Target{}, err
	}
	cfg := &config{Addr: ln.Addr().String(), Data: dir, MaxBody: 64 << 20, withoutAudit: withoutAudit, storeOptions: opts}
	var fs flag.FlagSet
	cfg.Limits.flags(&fs) // the defaults of serve
	gw, err := openGateway(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		ln.Close()
		return bench.Target{}, err
	}
	tok, err := smart.MintToken(dir, cfg.smart(), "system/*.cruds", time.Hour)
	if err != nil {
		ln.Close()
		gw.Close()
		return bench.Target{}, err
	}
	srv := &http.Server{Handler: gw.handler}
	go srv.Serve(ln)
	t := bench.Target{BaseURL: cfg.base(), Token: tok, Stop: func() { srv.Close(); gw.Close() }}
	t.Measure = func(ctx context.Context) (bench.StoreMeasure, error) {
		var m bench.StoreMeasure
		for _, f := range gw.files {
			if st, ok := f.Store.(*bolt.Store); ok {
				sp, err := st.Space(ctx)
				if err != nil {
					return m, err
				}
				m.File, m.Versions, m.Current, m.IndexRows, m.IndexKeyBytes = sp.File, sp.Versions, sp.Current, sp.IndexRowN, sp.IndexKeyBytes
				m.IndexGenerations = sp.IndexGenerations
				wc := st.WriteCost()
				m.Commits, m.PageWrites = wc.Commits, wc.PageWrites
				m.ByKind = []bench.Kind{{Name: "resources (current versions)", Bytes: sp.Resources}, {Name: "history (older versions, history rows)", Bytes: sp.History},
					{Name: "index rows", Bytes: sp.IndexRows}, {Name: "index entry lists (per resource)", Bytes: sp.IndexEntryLists}, {Name: "other (counts, aux)", Bytes: sp.Other}, {Name: "free pages", Bytes: sp.Free}}
			} else if fi, err := os.Stat(dir + "/" + f.Name); err == nil {
				m.AuditFile = fi.Size()
			}
		}
		m.RSS = rss()
		return m, nil
	}
	return t, nil
}

// rss is the resident set of this process (gateway and load generator together).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n << 10
		}
	}
	return 0
}

func readLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func ints(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", p)
		}
		out = append(out, n)
	}
	return out, nil
}
