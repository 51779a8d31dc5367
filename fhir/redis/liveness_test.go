package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Finding #15.5: after a kill -9 of one gateway, the others hung 30–60 s on its lock
// and leases, and a write ended in a 409. An instance that stops renewing (dead)
// holds the others back by one lock or lease lifetime at most, and their writes
// commit.
func TestDeadInstanceDelaysOthersBriefly(t *testing.T) {
	prefix := randomPrefix()
	dead := openPrefixed(t, prefix, frozen())
	live := openPrefixed(t, prefix)
	ctx := context.Background()
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	leased, locked := make(chan struct{}), make(chan struct{})
	go dead.View(ctx, func(fhir.Tx) error { close(leased); <-never; return nil })
	<-leased
	go dead.Update(ctx, func(tx fhir.Tx) error {
		close(locked)
		<-never
		return tx.PutAux("ns", "dead", []byte("x"))
	})
	<-locked
	start := time.Now()
	if err := live.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux("ns", "live", []byte("ok")) }); err != nil {
		t.Fatalf("write beside a dead instance: %v", err)
	}
	if d := time.Since(start); d > DefaultLockTTL+DefaultLeaseTTL+2*time.Second {
		t.Errorf("write waited %v for a dead instance", d)
	}
	start = time.Now()
	err := live.View(ctx, func(tx fhir.Tx) error {
		v, err := tx.GetAux("ns", "live")
		if err == nil && string(v) != "ok" {
			err = fmt.Errorf("read %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > DefaultLockTTL+time.Second {
		t.Errorf("read waited %v", d)
	}
}

// A live instance renews its lock: an Update longer than the lock's lifetime still
// commits, without a conflict.
func TestLongUpdateKeepsItsLock(t *testing.T) {
	prefix := randomPrefix()
	// the lock lives 2 s and the Update lasts 5: only renewals keep it (a TTL of 1 s
	// was cut by a loaded machine's scheduling when packages ran in parallel)
	s := openPrefixed(t, prefix, WithLockTTL(2*time.Second))
	other := openPrefixed(t, prefix)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		done <- other.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux("ns", "other", []byte("1")) })
	}()
	err := s.Update(ctx, func(tx fhir.Tx) error {
		time.Sleep(5 * time.Second)
		return tx.PutAux("ns", "long", []byte("1"))
	})
	if err != nil {
		t.Fatalf("long Update: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("other Update: %v", err)
	}
}

// Finding #15.5: with Redis down the gateway answered 500. The store now reports
// fhir.ErrUnavailable (503 with Retry-After), and works again once Redis is back,
// with the same Store.
func TestRedisDownIsUnavailableAndRecovers(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed (apt-get install redis-server): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if ping(url) == nil {
				return cmd
			}
		}
		t.Fatal("redis-server does not answer")
		return nil
	}
	cmd := start()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	write := func() error {
		return s.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux("ns", "k", []byte("v")) })
	}
	if err := write(); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := s.View(ctx, func(tx fhir.Tx) error { _, err := tx.GetAux("ns", "k"); return err }); !errors.Is(err, fhir.ErrUnavailable) {
		t.Fatalf("View with Redis down: %v, want ErrUnavailable", err)
	}
	if err := write(); !errors.Is(err, fhir.ErrUnavailable) {
		t.Fatalf("Update with Redis down: %v, want ErrUnavailable", err)
	}
	if fe := fhir.AsError(write()); fe.Status != 503 {
		t.Fatalf("status %d, want 503", fe.Status)
	}
	cmd = start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := write(); err != nil {
		t.Fatalf("after Redis came back: %v", err)
	}
}
