package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Issue #15, multi-instance Redis (item 5), against the real binary.

// #15.5: with Redis down the gateway answered 500. It answers 503 with Retry-After,
// and serves again once Redis is back, without a restart.
func TestRedisOutageAnswers503AndRecovers(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed (apt-get install redis-server): %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				conn.Close()
				return cmd
			}
		}
		t.Fatal("redis-server does not listen")
		return nil
	}
	redis := start()
	g, err := Start(context.Background(), binary, t.TempDir(), "--redis", fmt.Sprintf("redis://127.0.0.1:%d/0", port))
	if err != nil {
		redis.Process.Kill()
		t.Fatal(err)
	}
	defer g.Stop()
	c := g.Client()
	r, err := c.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Outage"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create: %v %v", err, r)
	}
	id := IDFromLocation(r.Header.Get("Location"))
	redis.Process.Kill()
	redis.Wait()
	r, err = c.Do(http.MethodGet, "Patient/"+id, nil, nil)
	if err != nil || r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("read with Redis down: %v %v (Retry-After %q)", err, r, r.Header.Get("Retry-After"))
	}
	redis = start()
	defer func() { redis.Process.Kill(); redis.Wait() }()
	// Redis came back empty (no persistence here): the gateway must answer again,
	// whatever it finds
	r, err = c.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Back"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Errorf("create after Redis came back: %v %v", err, r)
	}
}

// #15.5: after a kill -9 of one gateway, every instance hung 30–60 s on the dead
// one's lock and leases, and a write ended in a 409. Gateway a is killed while it
// writes and reads without pause; gateway b's next write must succeed within a few
// seconds.
func TestKilledInstanceDoesNotHoldOthersBack(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379: %v", err)
	}
	prefix := fmt.Sprintf("aitgw-e2e-kill-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	dir := t.TempDir()
	redisArgs := []string{"--redis", "redis://127.0.0.1:6379/0", "--redis-prefix", prefix}
	a, err := Start(ctx, binary, dir, redisArgs...)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	b, err := Start(ctx, binary, dir, redisArgs...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	ca, cb := a.Client(), b.Client()
	ca.HTTP.Timeout = 5 * time.Second
	stop := make(chan struct{})
	busy := make(chan struct{}, 4)
	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%2 == 0 {
					ca.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Busy"}]}`), nil)
				} else {
					ca.Do(http.MethodGet, "Patient?name=busy&_count=5", nil, nil)
				}
				if i == 4 {
					busy <- struct{}{}
				}
			}
		}(w)
	}
	for w := 0; w < 4; w++ {
		<-busy
	}
	a.Kill()
	close(stop)
	for i := 0; i < 3; i++ {
		start := time.Now()
		r, err := cb.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Survivor"}]}`), nil)
		if err != nil || r.Status != http.StatusCreated {
			t.Fatalf("write on b after a was killed: %v %v", err, r)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("write on b took %v after a was killed", d)
		}
		start = time.Now()
		if r, err := cb.Do(http.MethodGet, "Patient?name=survivor", nil, nil); err != nil || r.Status != http.StatusOK {
			t.Fatalf("search on b: %v %v", err, r)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("search on b took %v after a was killed", d)
		}
	}
}
