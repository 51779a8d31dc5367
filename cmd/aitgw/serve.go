package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/aitgw/aitgw/server/observe"
)

// serveCmd runs the gateway until SIGINT or SIGTERM, then drains requests in flight.
func serveCmd(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg config
	cfg.flags(fs)
	if err := parseWithConfig(fs, args, false); err != nil {
		return 2
	}
	logger, err := cfg.ops.logger(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.ops.OTLPEndpoint != "" {
		shutdownTracing, err := observe.StartTracing(ctx, cfg.ops.OTLPEndpoint, version)
		if err != nil {
			logger.Error("cannot start", "error", err)
			return 1
		}
		defer shutdownTracing(context.Background())
	}
	cfg.instance = newInstance()
	gw, err := openGateway(&cfg, logger)
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 1
	}
	defer gw.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		logger.Error("cannot listen", "addr", cfg.Addr, "error", err)
		return 1
	}
	srv := cfg.Limits.server(gw.handler)
	if err := writeRecord(cfg.Data, gatewayRecord{Instance: cfg.instance, Addr: ln.Addr().String(), BaseURL: cfg.base(),
		PID: os.Getpid(), Version: version, Started: time.Now().UTC()}); err != nil {
		logger.Error("cannot record the gateway under --data", "error", err.Error())
		return 1
	}
	http1Only(srv)
	errc := make(chan error, 1)
	go func() {
		if cfg.ops.TLSCert != "" || cfg.ops.TLSKey != "" {
			errc <- srv.ServeTLS(ln, cfg.ops.TLSCert, cfg.ops.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	var workers sync.WaitGroup
	for _, run := range gw.background {
		workers.Go(func() {
			gw.workersRunning.Add(1)
			defer gw.workersRunning.Add(-1)
			run(ctx)
		})
	}
	if cfg.ops.MetricsAddr != "" {
		workers.Go(func() {
			if err := gw.metrics.Serve(ctx, cfg.ops.MetricsAddr); err != nil && ctx.Err() == nil {
				logger.Error("metrics listener stopped", "addr", cfg.ops.MetricsAddr, "error", err.Error())
			}
		})
	}
	defer workers.Wait() // before the deferred Close: workers use the store
	logger.Info("AIT Gateway listening", "addr", ln.Addr().String(), "base", cfg.base(), "data", cfg.Data)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Error("server stopped", "error", err)
			return 1
		}
	case <-ctx.Done():
		logger.Info("shutting down: draining requests in flight", "grace", "10s")
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			logger.Warn("shutdown: requests still in flight were cut", "error", err.Error())
		}
	}
	defer logger.Info("stopping: closing the store and flushing the audit trail")
	return 0
}
