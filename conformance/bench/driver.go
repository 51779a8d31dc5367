package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// op is one request of a scenario; worker w issues its i-th. It returns an error when
// the answer is not the one FHIR specifies (wrong status), which counts as an error.
type op func(ctx context.Context, w, i int) error

// driver issues the requests over one keep-alive connection pool.
type driver struct {
	base   string
	opt    Options
	token  string
	client *http.Client
	run    string         // unique per run, keeps identifiers distinct
	seq    *atomic.Uint64 // distinct urn:uuid per transaction, shared by copies
}

func newDriver(base, token string, opt Options) *driver {
	tr := &http.Transport{
		MaxIdleConns:        opt.Concurrency * 2,
		MaxIdleConnsPerHost: opt.Concurrency * 2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &driver{
		base:   base,
		opt:    opt,
		token:  token,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		run:    fmt.Sprintf("%x", time.Now().UnixNano()),
		seq:    new(atomic.Uint64),
	}
}

func (d *driver) close() { d.client.CloseIdleConnections() }

// do sends one request and drains the answer, returning its status.
func (d *driver) do(ctx context.Context, method, url string, body []byte) (int, []byte, http.Header, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

// seed is the Patient every read fetches, and the exact answer of its read.
type seed struct {
	id     string
	body   []byte
	header http.Header
}

// seedPatient creates the Patient that reads target and captures its read answer, so
// that the bare handler serves the same bytes with the same headers.
func (d *driver) seedPatient(ctx context.Context) (*seed, error) {
	status, _, h, err := d.do(ctx, http.MethodPost, d.base+"/Patient", d.patient(0, 0))
	if err != nil || status != http.StatusCreated {
		return nil, fmt.Errorf("bench: seed Patient: POST %s/Patient answered %d (%v), want 201", d.base, status, err)
	}
	loc := h.Get("Location")
	id := idFromLocation(loc)
	if id == "" {
		return nil, fmt.Errorf("bench: seed Patient: no id in Location %q", loc)
	}
	status, body, h, err := d.do(ctx, http.MethodGet, d.base+"/Patient/"+id, nil)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("bench: read seed Patient/%s answered %d (%v), want 200", id, status, err)
	}
	return &seed{id: id, body: body, header: h}, nil
}

// patient is a small synthetic Patient, distinct per worker and iteration.
func (d *driver) patient(w, i int) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Patient","identifier":[{"system":"urn:aitgw:bench","value":"%s-%d-%d"}],`+
		`"name":[{"family":"Bench","given":["Load"]}],"gender":"unknown","birthDate":"1958-03-02"}`, d.run, w, i)
}

// getExpect reads url and expects status.
func (d *driver) getExpect(url string, status int) op {
	return func(ctx context.Context, _, _ int) error {
		got, _, _, err := d.do(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if got != status {
			return fmt.Errorf("GET %s: %d, want %d", url, got, status)
		}
		return nil
	}
}

// create posts a new Patient and expects 201.
func (d *driver) create(ctx context.Context, w, i int) error {
	got, _, _, err := d.do(ctx, http.MethodPost, d.base+"/Patient", d.patient(w, i))
	if err != nil {
		return err
	}
	if got != http.StatusCreated {
		return fmt.Errorf("POST Patient: %d, want 201", got)
	}
	return nil
}

// transaction posts the small referral shape: a Patient and an Observation that
// references it by urn:uuid, and expects 200 (transaction-response).
func (d *driver) transaction(ctx context.Context, w, i int) error {
	n := d.seq.Add(1)
	body := fmt.Appendf(nil, `{"resourceType":"Bundle","type":"transaction","entry":[`+
		`{"fullUrl":"urn:uuid:%08x-0000-4000-8000-%012x","resource":%s,"request":{"method":"POST","url":"Patient"}},`+
		`{"fullUrl":"urn:uuid:%08x-0001-4000-8000-%012x","resource":{"resourceType":"Observation","status":"final",`+
		`"code":{"coding":[{"system":"http://loinc.org","code":"72514-3","display":"Pain severity"}]},`+
		`"subject":{"reference":"urn:uuid:%08x-0000-4000-8000-%012x"},"valueInteger":%d},"request":{"method":"POST","url":"Observation"}}]}`,
		w, n, d.patient(w, i), w, n, w, n, i%11)
	got, _, _, err := d.do(ctx, http.MethodPost, d.base+"/", body)
	if err != nil {
		return err
	}
	if got != http.StatusOK {
		return fmt.Errorf("POST transaction: %d, want 200", got)
	}
	return nil
}

// measure runs o from Concurrency workers: first for Warmup (not counted), then for
// Duration, and returns throughput and latency percentiles.
func (d *driver) measure(ctx context.Context, name string, o op) (Scenario, error) {
	if _, _, err := d.loop(ctx, o, d.opt.Warmup, 1<<30); err != nil {
		return Scenario{}, err
	}
	start := time.Now()
	lat, errs, err := d.loop(ctx, o, d.opt.Duration, 1<<60)
	elapsed := time.Since(start)
	if err != nil {
		return Scenario{}, err
	}
	return scenario(name, lat, errs, elapsed), nil
}

// pairRounds is how many slices of each scenario measurePair alternates.
const pairRounds = 5

// measurePair measures a and b in alternating slices (a b, then b a, …), each for
// Duration/pairRounds, after a warmup of each, and returns both. After each slice it
// pauses briefly, so that work the gateway defers (its audit writer flushes every
// 100 ms) is done before the other scenario's slice starts rather than during it.
func (d *driver) measurePair(ctx context.Context, nameA string, a op, nameB string, b op) (Scenario, Scenario, error) {
	for _, o := range []op{a, b} {
		if _, _, err := d.loop(ctx, o, d.opt.Warmup, 1<<30); err != nil {
			return Scenario{}, Scenario{}, err
		}
	}
	type acc struct {
		lat     []time.Duration
		errs    int
		elapsed time.Duration
	}
	var accs [2]acc
	slice := max(d.opt.Duration/pairRounds, 10*time.Millisecond)
	ops := [2]op{a, b}
	for round := 0; round < pairRounds; round++ {
		order := [2]int{0, 1}
		if round%2 == 1 {
			order = [2]int{1, 0}
		}
		for _, i := range order {
			start := time.Now()
			lat, errs, err := d.loop(ctx, ops[i], slice, 1<<60+round<<40)
			accs[i].elapsed += time.Since(start)
			if err != nil {
				return Scenario{}, Scenario{}, err
			}
			accs[i].lat = append(accs[i].lat, lat...)
			accs[i].errs += errs
			time.Sleep(200 * time.Millisecond)
		}
	}
	var out [2]Scenario
	for i, name := range []string{nameA, nameB} {
		out[i] = scenario(name, accs[i].lat, accs[i].errs, accs[i].elapsed)
	}
	return out[0], out[1], nil
}

// scenario computes a scenario's figures from its latencies.
func scenario(name string, lat []time.Duration, errs int, elapsed time.Duration) Scenario {
	s := Scenario{Name: name, Ops: len(lat), Errors: errs, Elapsed: elapsed}
	if elapsed > 0 {
		s.PerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		s.P50 = lat[len(lat)*50/100]
		s.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return s
}

// loop runs o until dur has passed (or ctx ends), and returns the latencies of the
// successful requests and the number of failed ones. A scenario where every request
// fails is an error: the figures would mean nothing.
func (d *driver) loop(ctx context.Context, o op, dur time.Duration, offset int) ([]time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	var errs int
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < d.opt.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			bad := 0
			var werr error
			for i := offset; ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := o(ctx, w, i)
				if ctx.Err() != nil {
					break // cut by the deadline: neither success nor failure
				}
				if err != nil {
					bad++
					werr = err
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += bad
			if firstErr == nil {
				firstErr = werr
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	if len(all) == 0 && firstErr != nil {
		return nil, errs, fmt.Errorf("bench: every request failed: %w", firstErr)
	}
	return all, errs, nil
}

// idFromLocation extracts the id from .../Type/id/_history/n.
func idFromLocation(loc string) string {
	if i := bytes.Index([]byte(loc), []byte("/_history")); i >= 0 {
		loc = loc[:i]
	}
	for i := len(loc) - 1; i >= 0; i-- {
		if loc[i] == '/' {
			return loc[i+1:]
		}
	}
	return ""
}
