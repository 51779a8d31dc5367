package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/aitgw/aitgw/conformance/bench"
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

// startInProcess serves a gateway on a free loopback port, with an operator token
// (startSuiteGateway, whose store measures the plain load command leaves unused).
func startInProcess(dir string, withoutAudit bool) (bench.Target, error) {
	return startSuiteGateway(dir, withoutAudit)
}
