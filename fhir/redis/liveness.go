package redis

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
)

// Lock and lease lifetimes. They are short, and renewed by their holder every fifth
// of their life (a renewal may come late on a loaded machine), so that an instance killed while it holds the writer lock or a
// reader lease delays the others by a few seconds at most, while a live one may hold
// them as long as its request runs.
const (
	DefaultLockTTL  = 3 * time.Second
	DefaultLeaseTTL = 3 * time.Second
)

// keepAlive calls renew every fifth of ttl until the returned stop is called; stop
// waits for a renewal in progress. A frozen store (tests) renews nothing.
func (s *Store) keepAlive(ctx context.Context, ttl time.Duration, renew func(context.Context)) (stop func()) {
	if s.frozen {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(ttl / 5)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				renew(context.WithoutCancel(ctx))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// unavailable marks an error that means Redis cannot be reached or cannot serve
// for now (refused or reset connection, timeout, loading, failover) as
// fhir.ErrUnavailable, which the gateway answers with 503 and Retry-After. go-redis
// reconnects by itself: the next request after Redis is back succeeds.
func unavailable(err error) error {
	if err == nil || errors.Is(err, fhir.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var fe *fhir.Error
	if errors.As(err, &fe) {
		return err
	}
	var ne net.Error
	var re goredis.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, goredis.ErrPoolTimeout):
		return errors.Join(fhir.ErrUnavailable, err)
	case errors.As(err, &re):
		for _, p := range []string{"LOADING", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "BUSY"} {
			if strings.HasPrefix(re.Error(), p) {
				return errors.Join(fhir.ErrUnavailable, err)
			}
		}
	}
	return err
}
