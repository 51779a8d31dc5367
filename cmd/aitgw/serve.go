package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// serveCmd runs the gateway until SIGINT or SIGTERM, then drains requests in flight.
func serveCmd(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg config
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var workers sync.WaitGroup
	for _, run := range gw.background {
		workers.Go(func() { run(ctx) })
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
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}
	return 0
}
