package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// binary is the aitgw executable built once for the whole test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aitgw-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	binary, err = Build(ctx, dir)
	cancel()
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot build the gateway:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// startGateway starts the built binary on a fresh data directory and stops it when
// the test ends, printing its log tail if the test failed.
func startGateway(t *testing.T) *Gateway {
	t.Helper()
	g, err := Start(context.Background(), binary, t.TempDir())
	if err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	t.Cleanup(func() {
		g.Stop()
		// a gateway built with -race (AITGW_BIN) reports data races in its log
		if strings.Contains(g.Logs(), "DATA RACE") {
			t.Errorf("the gateway reported a data race")
		}
		if t.Failed() {
			t.Logf("gateway log tail:\n%s", g.Logs())
		}
	})
	return g
}
