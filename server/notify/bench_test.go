package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkMilestoneToRestHook measures the latency from a milestone's write (a REST
// create whose hook raises it) to its rest-hook notification reaching the receiver,
// at 100 milestones per second on a bolt store, and reports p50 and p99. "poll" is
// the worker alone (default 200 ms poll); "wake" is the worker woken after each
// commit.
func BenchmarkMilestoneToRestHook(b *testing.B) {
	for _, wake := range []bool{false, true} {
		name := "poll"
		if wake {
			name = "wake"
		}
		b.Run(name, func(b *testing.B) { benchLatency(b, wake) })
	}
}

func benchLatency(b *testing.B, wake bool) {
	var mu sync.Mutex
	got := map[string]time.Time{} // Communication id → arrival
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var bundle struct {
			Entry []struct {
				FullURL string `json:"fullUrl"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(body, &bundle)
		if len(bundle.Entry) > 1 {
			id := bundle.Entry[1].FullURL[strings.LastIndex(bundle.Entry[1].FullURL, "/")+1:]
			mu.Lock()
			if _, ok := got[id]; !ok {
				got[id] = time.Now()
			}
			mu.Unlock()
		}
	}))
	defer srv.Close()
	e := newEnv(b)
	e.pathway()
	e.put(subscriptionJSON("bench", srv.URL, PayloadIDOnly, "Communication?recipient=Practitioner/gp", 0))
	w := &Worker{Store: e.store, Write: e.updater(), Base: "http://gw.test/fhir/", Mailer: acceptMail{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitFor(b, "the handshake", 10*time.Second, func() bool { return e.read("Subscription", "bench")["status"] == "active" })

	start := make([]time.Time, b.N)
	ids := make([]string, b.N)
	var wg sync.WaitGroup
	tick := time.NewTicker(10 * time.Millisecond) // 100 milestones per second
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		m := refill(0)
		m.Facts = map[string]string{"date": fmt.Sprintf("bench-%d", i), "drugs": "morphine"}
		ids[i] = communicationID(m, m.Recipients[0])
		start[i] = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.milestone(m); err != nil {
				b.Error(err)
			}
			if wake {
				w.Wake()
			}
		}()
	}
	wg.Wait()
	waitFor(b, "every notification", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= b.N
	})
	b.StopTimer()
	lat := make([]time.Duration, b.N)
	mu.Lock()
	for i, id := range ids {
		lat[i] = got[id].Sub(start[i])
	}
	mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
