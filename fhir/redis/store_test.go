package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storetest"
)

// redisURL is the Redis the tests use: $AITGW_TEST_REDIS_URL, else the machine's
// 127.0.0.1:6379, else one TestMain starts.
var redisURL string

func TestMain(m *testing.M) {
	stop, err := findRedis()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fhir/redis tests need Redis:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// findRedis sets redisURL, starting redis-server on a free port if no Redis answers.
func findRedis() (stop func(), err error) {
	candidates := []string{"redis://127.0.0.1:6379/0"}
	if u := os.Getenv("AITGW_TEST_REDIS_URL"); u != "" {
		candidates = []string{u}
	}
	for _, u := range candidates {
		if ping(u) == nil {
			redisURL = u
			return func() {}, nil
		}
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("nothing answers at %v and redis-server is not installed (apt-get install redis-server)", candidates)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ping(redisURL) == nil {
			return stop, nil
		}
	}
	stop()
	return nil, fmt.Errorf("redis-server started on port %d but does not answer", port)
}

func ping(url string) error {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return err
	}
	opts.DialTimeout = 500 * time.Millisecond
	c := goredis.NewClient(opts)
	defer c.Close()
	return c.Ping(context.Background()).Err()
}

// openPrefixed opens a store under prefix and deletes its keys when the test ends.
func openPrefixed(t testing.TB, prefix string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), redisURL, append([]Option{WithPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		dropKeys(t, prefix)
	})
	return s
}

// dropKeys deletes every key of the store with prefix (never FLUSHALL: the Redis is
// shared).
func dropKeys(t testing.TB, prefix string) {
	opts, _ := goredis.ParseURL(redisURL)
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, newKeys(prefix).p+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup scan: %v", err)
	}
	if len(batch) > 0 {
		if err := c.Del(ctx, batch...).Err(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func randomPrefix() string { return "aitgwtest-" + token()[:12] }

func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fhir.Store { return openPrefixed(t, randomPrefix()) })
}

func TestDurable(t *testing.T) {
	prefix := randomPrefix()
	t.Cleanup(func() { dropKeys(t, prefix) })
	storetest.RunDurable(t, func(t *testing.T, dir string) fhir.Store {
		s, err := Open(context.Background(), redisURL, WithPrefix(prefix))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// TestTwoInstancesShareOneStore runs concurrent read-modify-write Updates through two
// Store values (two gateway instances) on the same prefix: the lock must serialise
// them across instances.
func TestTwoInstancesShareOneStore(t *testing.T) {
	prefix := randomPrefix()
	a, b := openPrefixed(t, prefix), openPrefixed(t, prefix)
	ctx := context.Background()
	const each = 40
	errs := make(chan error, 2)
	for _, s := range []*Store{a, b} {
		go func() {
			for i := 0; i < each; i++ {
				err := s.Update(ctx, func(tx fhir.Tx) error {
					v := int64(1)
					if cur, err := tx.Current("Observation", "shared"); err == nil {
						v = cur.Version + 1
					}
					return tx.Put(&fhir.Record{Type: "Observation", ID: "shared", Version: v, LastUpdated: time.Now(), Method: "PUT", Body: []byte(`{}`)}, nil)
				})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	err := b.View(ctx, func(tx fhir.Tx) error {
		cur, err := tx.Current("Observation", "shared")
		if err != nil {
			return err
		}
		if cur.Version != 2*each {
			t.Fatalf("version %d after %d updates from two instances", cur.Version, 2*each)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExpiredLockCommitsNothing stalls an Update past its lock, lets another instance
// take the lock, and checks that the stalled one fails with ErrConflict and writes
// nothing.
func TestExpiredLockCommitsNothing(t *testing.T) {
	prefix := randomPrefix()
	slow := openPrefixed(t, prefix, WithLockTTL(100*time.Millisecond), frozen())
	fast := openPrefixed(t, prefix)
	ctx := context.Background()
	err := slow.Update(ctx, func(tx fhir.Tx) error {
		if err := tx.Put(&fhir.Record{Type: "Patient", ID: "slow", Version: 1, Method: "POST", Body: []byte(`{}`)}, nil); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond) // lock expires
		return fast.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux("ns", "k", []byte("fast")) })
	})
	if err == nil {
		t.Fatalf("Update whose lock expired committed")
	}
	if !isConflict(err) {
		t.Fatalf("Update whose lock expired: %v, want ErrConflict", err)
	}
	err = fast.View(ctx, func(tx fhir.Tx) error {
		if _, err := tx.Current("Patient", "slow"); err != fhir.ErrNotFound {
			t.Fatalf("write of the expired Update is visible (%v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
