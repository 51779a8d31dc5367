// Package soak drives a running gateway at a steady mixed rate for a long time and
// reports, minute by minute, what a hospital's operator watches for a slow leak:
// latency percentiles, the store's size on disk and the server's resident memory.
// The load goes to a loopback address only, is bounded in rate and duration, and
// stops by itself.
package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is one soak run.
type Config struct {
	// Base is the FHIR base of the gateway under test (loopback).
	Base  string
	Token string
	// PID is the server's process id, for its resident memory (0: not reported).
	PID int
	// StoreFiles are the files whose size is the store's (aitgw.db; audit.db apart).
	StoreFile, AuditFile string
	Duration             time.Duration
	// Rate is the requests per second, spread over the mix.
	Rate int
	// Interval is the reporting period (one row each), a minute by default.
	Interval time.Duration
	// ReadsOnly drops the writes from the mix: then the store must not grow at all.
	ReadsOnly bool
}

// Row is one reporting period.
type Row struct {
	Minute           int
	Requests, Errors int
	P50, P99         time.Duration
	StoreBytes       int64
	AuditBytes       int64
	// RSSBytes is the server's resident memory that is its own (heap, stacks:
	// RssAnon); FileBytes the pages of the store files it maps (RssFile), which
	// follow the store's size, not a leak.
	RSSBytes, FileBytes int64
}

// the mix, per 20 requests: reads by id, paged searches (first and next page), a
// $everything, creates, a transaction of a Patient and an Observation
var mix = []string{"read", "read", "read", "read", "read", "read", "read", "read", "search", "search", "search",
	"page", "page", "everything", "create", "create", "create", "tx", "tx", "read"}

// Run soaks the gateway and returns one Row per interval.
func Run(ctx context.Context, cfg Config, progress io.Writer) ([]Row, error) {
	if cfg.Interval == 0 {
		cfg.Interval = time.Minute
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	d := &driver{cfg: cfg, client: client}
	if err := d.seed(ctx, 200); err != nil {
		return nil, err
	}
	if cfg.ReadsOnly {
		// the search pages before the soak, so that every later read is a read
		for range 50 {
			if err := d.do(ctx, "search"); err != nil {
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var rows []Row
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(cfg.Rate))
	defer tick.Stop()
	report := time.NewTicker(cfg.Interval)
	defer report.Stop()
	sem := make(chan struct{}, 64) // at most 64 requests in flight: the rate is bounded either way
	flush := func() {
		mu.Lock()
		l, e := lat, errs
		lat, errs = nil, 0
		mu.Unlock()
		row := Row{Minute: len(rows) + 1, Requests: len(l), Errors: e, StoreBytes: size(cfg.StoreFile), AuditBytes: size(cfg.AuditFile)}
		row.RSSBytes, row.FileBytes = rss(cfg.PID, "RssAnon:"), rss(cfg.PID, "RssFile:")
		if len(l) > 0 {
			slices.Sort(l)
			row.P50, row.P99 = l[len(l)/2], l[len(l)*99/100]
		}
		rows = append(rows, row)
		if progress != nil {
			fmt.Fprintf(progress, "period %d: %d requests, %d errors, p50 %v, p99 %v, store %d B, audit %d B, RSS %d MB\n",
				row.Minute, row.Requests, row.Errors, row.P50.Round(10*time.Microsecond), row.P99.Round(10*time.Microsecond),
				row.StoreBytes, row.AuditBytes, row.RSSBytes>>20)
			fmt.Fprintf(progress, "  mapped store pages %d MB\n", row.FileBytes>>20)
		}
	}
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			if len(rows) == 0 {
				flush()
			}
			return rows, nil
		case <-report.C:
			flush()
		case <-tick.C:
			select {
			case sem <- struct{}{}:
			default:
				mu.Lock()
				errs++ // the gateway is behind: count it, do not queue
				mu.Unlock()
				continue
			}
			kind := mix[i%len(mix)]
			if cfg.ReadsOnly && (kind == "create" || kind == "tx") {
				kind = "read"
			}
			wg.Go(func() {
				defer func() { <-sem }()
				start := time.Now()
				err := d.do(ctx, kind)
				el := time.Since(start)
				mu.Lock()
				if err != nil && ctx.Err() == nil {
					errs++
				} else if err == nil {
					lat = append(lat, el)
				}
				mu.Unlock()
			})
		}
	}
}

// Flat reports whether the server's resident memory and the median latency stay
// within frac of the second period's (the first warms up), and, for a reads-only
// soak, whether the store did not grow at all; it names what did not.
func Flat(rows []Row, frac float64, readsOnly bool) (bool, []string) {
	if len(rows) < 3 {
		return false, []string{"fewer than 3 periods"}
	}
	base := rows[1]
	var out []string
	check := func(name string, first, v float64) {
		if first > 0 && (v > first*(1+frac) || v < first*(1-frac)) {
			out = append(out, fmt.Sprintf("%s %.0f vs %.0f", name, v, first))
		}
	}
	for _, r := range rows[2:] {
		check(fmt.Sprintf("period %d RSS", r.Minute), float64(base.RSSBytes), float64(r.RSSBytes))
		check(fmt.Sprintf("period %d p50 (µs)", r.Minute), float64(base.P50.Microseconds()), float64(r.P50.Microseconds()))
		if readsOnly && r.StoreBytes != rows[0].StoreBytes {
			out = append(out, fmt.Sprintf("period %d: the store grew under reads only (%d → %d bytes)", r.Minute, rows[0].StoreBytes, r.StoreBytes))
		}
	}
	return len(out) == 0, out
}

type driver struct {
	cfg    Config
	client *http.Client
	mu     sync.Mutex
	ids    []string
	pages  []string
}

func (d *driver) req(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Authorization", "Bearer "+d.cfg.Token)
	r.Header.Set("Content-Type", "application/fhir+json")
	resp, err := d.client.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		return b, fmt.Errorf("%s %s: %d", method, strings.SplitN(url, "?", 2)[0], resp.StatusCode)
	}
	return b, err
}

func (d *driver) seed(ctx context.Context, n int) error {
	for range n {
		if err := d.do(ctx, "create"); err != nil {
			return fmt.Errorf("seeding the gateway: %w", err)
		}
	}
	return nil
}

func patient() []byte {
	return fmt.Appendf(nil, `{"resourceType":"Patient","gender":%q,"birthDate":"%04d-%02d-%02d","name":[{"family":"Soak%d"}]}`,
		[]string{"male", "female"}[rand.IntN(2)], 1930+rand.IntN(80), 1+rand.IntN(12), 1+rand.IntN(28), rand.IntN(1000))
}

func (d *driver) do(ctx context.Context, kind string) error {
	base := d.cfg.Base
	pick := func() string {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.ids[rand.IntN(len(d.ids))]
	}
	switch kind {
	case "create":
		b, err := d.req(ctx, http.MethodPost, base+"/Patient", patient())
		if err != nil {
			return err
		}
		var p struct{ ID string }
		if json.Unmarshal(b, &p) == nil && p.ID != "" {
			d.mu.Lock()
			d.ids = append(d.ids, p.ID)
			d.mu.Unlock()
		}
		return nil
	case "read":
		_, err := d.req(ctx, http.MethodGet, base+"/Patient/"+pick(), nil)
		return err
	case "everything":
		_, err := d.req(ctx, http.MethodGet, base+"/Patient/"+pick()+"/$everything?_count=10", nil)
		return err
	case "search":
		b, err := d.req(ctx, http.MethodGet, base+"/Patient?name=soak"+strconv.Itoa(rand.IntN(10))+"&_count=1", nil)
		if err != nil {
			return err
		}
		var bundle struct {
			Link []struct{ Relation, URL string }
		}
		if json.Unmarshal(b, &bundle) == nil {
			for _, l := range bundle.Link {
				if l.Relation == "next" {
					d.mu.Lock()
					d.pages = append(d.pages, l.URL)
					if len(d.pages) > 1000 {
						d.pages = d.pages[500:]
					}
					d.mu.Unlock()
				}
			}
		}
		return nil
	case "page":
		d.mu.Lock()
		var u string
		if len(d.pages) > 0 {
			u = d.pages[rand.IntN(len(d.pages))]
		}
		d.mu.Unlock()
		if u == "" {
			return d.do(ctx, "search")
		}
		_, err := d.req(ctx, http.MethodGet, u, nil)
		return err
	case "tx":
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", rand.Uint32(), rand.Uint64()&0xffffffffffff)
		tx := fmt.Appendf(nil, `{"resourceType":"Bundle","type":"transaction","entry":[`+
			`{"fullUrl":"urn:uuid:%s","resource":%s,"request":{"method":"POST","url":"Patient"}},`+
			`{"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"urn:uuid:%s"},"valueQuantity":{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},"request":{"method":"POST","url":"Observation"}}]}`,
			id, patient(), id, 100+rand.IntN(60))
		_, err := d.req(ctx, http.MethodPost, base, tx)
		return err
	}
	return fmt.Errorf("unknown request kind %q", kind)
}

func size(path string) int64 {
	if path == "" {
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// rss reads one resident-memory line of a process from /proc (Linux): "RssAnon:"
// or "RssFile:"; 0 elsewhere.
func rss(pid int, field string) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
