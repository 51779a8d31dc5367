package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

// probeCmd asks a gateway's readiness endpoint and exits 0 when it is ready, 1
// otherwise: the container image's health check, where no curl is installed.
func probeCmd(args []string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080/readyz", "readiness endpoint to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	client := &http.Client{Timeout: *timeout}
	resp, err := client.Get(*url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "probe: %s answered %d\n", *url, resp.StatusCode)
		return 1
	}
	return 0
}
