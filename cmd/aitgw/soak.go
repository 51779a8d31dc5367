package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aitgw/aitgw/conformance/soak"
)

// soakCmd runs this binary as a gateway on a fresh data directory and soaks it at a
// steady mixed rate, one report row per minute: aitgw soak [-duration 10m] [-rate 100]
// [-reads-only]. It exits 1 when the resident memory or the median latency drift by
// more than -flat from the second minute's, or when a reads-only soak grew the store.
func soakCmd(args []string) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	duration := fs.Duration("duration", 10*time.Minute, "how long to soak")
	rate := fs.Int("rate", 100, "requests per second")
	interval := fs.Duration("interval", time.Minute, "reporting period")
	readsOnly := fs.Bool("reads-only", false, "reads and searches only: the store must not grow")
	flat := fs.Float64("flat", 0.10, "allowed drift of RSS and median latency from the second period")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "aitgw-soak-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr + "/fhir"
	srv := exec.Command(self, "serve", "--addr", addr, "--data", dir, "--base-url", base, "--log-level", "warn")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	var token string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err := exec.Command(self, "token", "--data", dir, "--scope", "system/*.cruds", "--ttl", "24h").Output()
		if err == nil {
			token = strings.TrimSpace(string(out))
			break
		}
	}
	if token == "" {
		fmt.Fprintln(os.Stderr, "soak: the gateway did not start")
		return 1
	}
	fmt.Printf("soak: %v at %d req/s (reads only: %v), gateway pid %d; load average %s\n", *duration, *rate, *readsOnly, srv.Process.Pid, loadAverage())
	rows, err := soak.Run(context.Background(), soak.Config{Base: base, Token: token, PID: srv.Process.Pid,
		StoreFile: filepath.Join(dir, mainStoreFile), AuditFile: filepath.Join(dir, auditStoreFile),
		Duration: *duration, Rate: *rate, Interval: *interval, ReadsOnly: *readsOnly}, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	fmt.Println("| period | requests | errors | p50 | p99 | aitgw.db MB | audit.db MB | RSS, own MB | RSS, mapped store MB |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| %d | %d | %d | %.2f ms | %.2f ms | %.1f | %.1f | %d | %d |\n", r.Minute, r.Requests, r.Errors,
			float64(r.P50.Microseconds())/1000, float64(r.P99.Microseconds())/1000, float64(r.StoreBytes)/(1<<20), float64(r.AuditBytes)/(1<<20), r.RSSBytes>>20, r.FileBytes>>20)
	}
	ok, why := soak.Flat(rows, *flat, *readsOnly)
	if !ok {
		fmt.Printf("not flat within %.0f %%: %s\n", *flat*100, strings.Join(why, "; "))
		return 1
	}
	fmt.Printf("flat within %.0f %% (RSS, median latency%s)\n", *flat*100, map[bool]string{true: ", store size unchanged", false: ""}[*readsOnly])
	return 0
}

// loadAverage is the machine's 1, 5 and 15-minute load, for the report.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
