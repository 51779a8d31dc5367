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
	"runtime/pprof"
	"strings"
	"time"

	"github.com/aitgw/aitgw/conformance/bench"
	"github.com/aitgw/aitgw/server/smart"
)

// benchCmd starts a gateway in process on a fresh data directory, drives it and a
// bare gin handler serving the same bytes over loopback, and prints the figures as
// ratios against that baseline.
func benchCmd(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	dur := fs.Duration("duration", 5*time.Second, "measured time per scenario")
	conc := fs.Int("concurrency", 16, "concurrent clients")
	noAudit := fs.Bool("without-audit", false, "run the gateway without its audit trail, to measure what the audit costs")
	only := fs.String("only", "", "run only these gateway scenarios (comma-separated: read,create,transaction), e.g. to profile one")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (client and gateway) to this file")
	suite := suiteFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "aitgw-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if suite.wanted() {
		return suite.run(dir, *dur, *noAudit)
	}
	report, err := bench.Run(context.Background(), bench.Options{
		Gateway:     func() (bench.Target, error) { return startInProcess(dir, *noAudit) },
		Duration:    *dur,
		Concurrency: *conc,
		Only:        strings.FieldsFunc(*only, func(r rune) bool { return r == ',' }),
		Logf:        func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Print(report.Markdown())
	for _, m := range report.Misses() {
		fmt.Println("target missed:", m)
	}
	return 0
}

// startInProcess serves a gateway on a free loopback port, with an operator token.
func startInProcess(dir string, withoutAudit bool) (bench.Target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bench.Target{}, err
	}
	cfg := &config{Addr: ln.Addr().String(), Data: dir, MaxBody: 16 << 20, withoutAudit: withoutAudit}
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
	return bench.Target{BaseURL: cfg.base(), Token: tok, Stop: func() { srv.Close(); gw.Close() }}, nil
}
