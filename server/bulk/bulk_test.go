package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
)

var ctx = context.Background()

func compartment(typ string) []string {
	return map[string][]string{"Patient": {"link"}, "Observation": {"subject", "performer"}}[typ]
}

// gatedStore holds every View until the gate opens: an export that is "running".
type gatedStore struct {
	fhir.Store
	gate chan struct{}
}

// gateKey marks the exports' context (Run's): kick-offs read ungated.
type gateKey struct{}

func (g *gatedStore) View(ctx context.Context, fn func(fhir.Tx) error) error {
	if ctx.Value(gateKey{}) == nil {
		return g.Store.View(ctx, fn)
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.View(ctx, fn)
}

type fixture struct {
	svc  *rest.Service
	m    *Manager
	dir  string
	stop context.CancelFunc
	done chan struct{}
}

func newFixture(t *testing.T, store fhir.Store, svc *rest.Service, dir string, maxJobs int) *fixture {
	t.Helper()
	if svc == nil {
		svc = resttest.Service(t, 50)
	}
	if store == nil {
		store = svc.Store
	}
	if dir == "" {
		dir = t.TempDir()
	}
	m, err := New(Config{Dir: dir, Store: store, Match: svc.Engine.Match, Compartment: compartment,
		BaseURL: resttest.Base, FilesURL: "http://gw.test/bulk", MaxJobs: maxJobs, Expiry: time.Hour, RetryAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, stop := context.WithCancel(context.WithValue(ctx, gateKey{}, true))
	f := &fixture{svc: svc, m: m, dir: dir, stop: stop, done: make(chan struct{})}
	go func() { m.Run(c); close(f.done) }()
	t.Cleanup(f.halt)
	return f
}

func (f *fixture) halt() {
	f.stop()
	<-f.done
}

func (f *fixture) seed(t *testing.T, patients, obsEach int) {
	t.Helper()
	for i := 0; i < patients; i++ {
		p, err := f.svc.Create(ctx, &rest.Request{Method: "POST", Type: "Patient", Body: []byte(`{"resourceType":"Patient"}`)})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < obsEach; j++ {
			body := fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"o%d"},"subject":{"reference":"Patient/%s"}}`, j, p.Record.ID)
			if _, err := f.svc.Create(ctx, &rest.Request{Method: "POST", Type: "Observation", Body: []byte(body)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (f *fixture) kickOff(t *testing.T, client, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	u, _ := url.Parse(path)
	r := httptest.NewRequest(http.MethodGet, "http://gw.test/fhir/"+path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	if client != "" {
		r = r.WithContext(WithCaller(r.Context(), Caller{ClientID: client, System: true}))
	}
	req := &rest.Request{Query: u.Query()}
	seg := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(seg) >= 2 {
		req.Type = seg[0]
	}
	if len(seg) == 3 {
		req.ID = seg[1]
	}
	w := httptest.NewRecorder()
	f.m.KickOff(w, r, req)
	return w
}

func (f *fixture) status(t *testing.T, client, statusURL string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, statusURL, nil)
	r = r.WithContext(WithCaller(r.Context(), Caller{ClientID: client, System: true}))
	w := httptest.NewRecorder()
	f.m.Status(w, r, filepath.Base(statusURL))
	return w
}

func (f *fixture) wait(t *testing.T, client, statusURL string) map[string]any {
	t.Helper()
	for i := 0; i < 500; i++ {
		w := f.status(t, client, statusURL)
		if w.Code == 200 {
			var m map[string]any
			json.Unmarshal(w.Body.Bytes(), &m)
			return m
		}
		if w.Code != 202 {
			t.Fatalf("status %d %s", w.Code, w.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("export did not finish")
	return nil
}

var async = http.Header{"Prefer": {"respond-async"}}

// TestTooManyExports: beyond MaxJobs running exports, a kick-off is 429 with
// Retry-After; polling a running one is 202 with X-Progress and Retry-After.
func TestTooManyExports(t *testing.T) {
	svc := resttest.Service(t, 50)
	gate := &gatedStore{Store: svc.Store, gate: make(chan struct{})}
	f := newFixture(t, gate, svc, "", 1)
	first := f.kickOff(t, "hub", "$export?_type=Patient", async)
	if first.Code != 202 {
		t.Fatalf("first kick-off: %d %s", first.Code, first.Body)
	}
	w := f.kickOff(t, "hub", "$export?_type=Patient", async)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "OperationOutcome") {
		t.Errorf("second kick-off: %d %v %s", w.Code, w.Header(), w.Body)
	}
	p := f.status(t, "hub", first.Header().Get("Content-Location"))
	if p.Code != 202 || p.Header().Get("X-Progress") == "" || p.Header().Get("Retry-After") == "" {
		t.Errorf("poll while running: %d %v", p.Code, p.Header())
	}
	close(gate.gate)
	f.wait(t, "hub", first.Header().Get("Content-Location"))
	if w := f.kickOff(t, "hub", "$export?_type=Patient", async); w.Code != 202 {
		t.Errorf("kick-off after the first finished: %d", w.Code)
	}
}

// TestExportResumesAfterRestart: a job interrupted (the manager stops mid-export, as
// a crash would leave it) is reloaded by the next manager on the same directory,
// reported as resumed, and completes.
func TestExportResumesAfterRestart(t *testing.T) {
	svc := resttest.Service(t, 50)
	dir := t.TempDir()
	gate := &gatedStore{Store: svc.Store, gate: make(chan struct{})}
	f := newFixture(t, gate, svc, dir, 2)
	f.seed(t, 3, 4)
	k := f.kickOff(t, "hub", "$export", async)
	loc := k.Header().Get("Content-Location")
	f.halt() // the export is blocked in its snapshot: it stops unfinished
	raw, _ := os.ReadFile(filepath.Join(dir, filepath.Base(loc), "job.json"))
	if !strings.Contains(string(raw), `"state":"running"`) {
		t.Fatalf("job after stop: %s", raw)
	}
	g := newFixture(t, nil, svc, dir, 2)
	m := g.wait(t, "hub", loc)
	counts := map[string]float64{}
	for _, o := range m["output"].([]any) {
		o := o.(map[string]any)
		counts[o["type"].(string)] = o["count"].(float64)
	}
	if counts["Patient"] != 3 || counts["Observation"] != 12 {
		t.Errorf("resumed export: %v", counts)
	}
}

// TestExportExpiry: a finished export's files are deleted after the expiry, and its
// status is then 404.
func TestExportExpiry(t *testing.T) {
	f := newFixture(t, nil, nil, "", 2)
	f.seed(t, 1, 1)
	loc := f.kickOff(t, "hub", "$export", async).Header().Get("Content-Location")
	f.wait(t, "hub", loc)
	f.m.expire(time.Now().Add(2 * time.Hour))
	if w := f.status(t, "hub", loc); w.Code != 404 {
		t.Errorf("after expiry: %d", w.Code)
	}
	if _, err := os.Stat(filepath.Join(f.dir, filepath.Base(loc))); !os.IsNotExist(err) {
		t.Errorf("files left after expiry: %v", err)
	}
}

// TestKickOffBadInput: every malformed kick-off is a 4xx OperationOutcome naming the
// parameter.
func TestKickOffBadInput(t *testing.T) {
	f := newFixture(t, nil, nil, "", 2)
	f.seed(t, 1, 1)
	for _, tc := range []struct {
		client, path string
		header       http.Header
		status       int
		expr         string
	}{
		{"hub", "$export?_type=Nope", async, 400, "_type"},
		{"hub", "$export?_since=2026-13-45", async, 400, "_since"},
		{"hub", "$export?_type=Patient&_typeFilter=Observation%3Fstatus%3Dfinal", async, 400, "_typeFilter"},
		{"hub", "$export?_typeFilter=Observation%3Fnosuchparam%3D1", async, 400, "_typeFilter"},
		{"hub", "$export?_outputFormat=application/xml", async, 400, "_outputFormat"},
		{"hub", "$export", nil, 400, ""},
		{"", "$export", async, 403, ""},
		{"hub", "Group/nope/$export", async, 404, "Group.id"},
		{"hub", "Patient/$export?_type=Practitioner", async, 400, "_type"},
	} {
		w := f.kickOff(t, tc.client, tc.path, tc.header)
		var oo fhir.OperationOutcome
		json.Unmarshal(w.Body.Bytes(), &oo)
		if w.Code != tc.status || len(oo.Issue) == 0 {
			t.Errorf("%s: %d %s, want %d", tc.path, w.Code, w.Body, tc.status)
			continue
		}
		if tc.expr != "" && (len(oo.Issue[0].Expression) == 0 || oo.Issue[0].Expression[0] != tc.expr) {
			t.Errorf("%s: expression %v, want %s", tc.path, oo.Issue[0].Expression, tc.expr)
		}
	}
}

// BenchmarkExport writes one Observation file of N resources (AITGW_EXPORT_N, default
// 200,000) from a bolt snapshot and reports resources/s and the growth of the
// process's resident memory during the export: anonymous (what the export holds) and
// file-backed (the store's mmapped pages the scan reads, reclaimable page cache).
func BenchmarkExport(b *testing.B) {
	n := 200_000
	if v := os.Getenv("AITGW_EXPORT_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	file := filepath.Join(b.TempDir(), "aitgw.db")
	st, err := bolt.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := &rest.Service{Store: st}
	now := time.Now().UTC().Add(-time.Minute)
	for done := 0; done < n; {
		batch := min(5000, n-done)
		err := svc.Store.Update(ctx, func(tx fhir.Tx) error {
			for i := 0; i < batch; i++ {
				id := rest.NewID()
				body := fmt.Sprintf(`{"resourceType":"Observation","id":%q,"meta":{"versionId":"1","lastUpdated":%q},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"777-3"}]},"subject":{"reference":"Patient/p%d"},"valueQuantity":{"value":%d,"unit":"10*3/uL","system":"http://unitsofmeasure.org","code":"10*3/uL"}}`,
					id, now.Format(time.RFC3339Nano), (done+i)%1000, 100+i%300)
				if err := tx.Put(&fhir.Record{Type: "Observation", ID: id, Version: 1, LastUpdated: now, Method: "POST", Body: []byte(body)}, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += batch
	}
	f := &fixture{}
	m, err := New(Config{Dir: b.TempDir(), Store: svc.Store, Compartment: compartment, BaseURL: resttest.Base,
		FilesURL: "http://gw.test/bulk", StoreFile: file})
	if err != nil {
		b.Fatal(err)
	}
	f.m = m
	b.ResetTimer()
	var peakAnon, peakFile int64
	for i := 0; i < b.N; i++ {
		anon0, file0 := rss()
		var mu sync.Mutex
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					a, f := rss()
					mu.Lock()
					peakAnon, peakFile = max(peakAnon, a-anon0), max(peakFile, f-file0)
					mu.Unlock()
				}
			}
		}()
		j := &job{ID: rest.NewID(), TransactionTime: time.Now().UTC(), Types: []string{"Observation"}, Level: levelSystem}
		os.MkdirAll(m.dir(j.ID), 0o700)
		out, err := m.exportType(ctx, j, "Observation")
		close(stop)
		if err != nil || out.Count != n {
			b.Fatalf("%v: %d of %d", err, out.Count, n)
		}
		os.RemoveAll(m.dir(j.ID))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(float64(peakAnon)/(1<<20), "MB-anon-rss-growth")
	b.ReportMetric(float64(peakFile)/(1<<20), "MB-file-rss-growth")
}

// rss is the process's anonymous and file-backed resident memory in bytes (Linux,
// /proc/self/status RssAnon and RssFile): the store's mmap pages read by the scan are
// file-backed page cache, not memory the export holds.
func rss() (anon, file int64) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		var kb int64
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			fmt.Sscan(v, &kb)
			anon = kb << 10
		}
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			fmt.Sscan(v, &kb)
			file = kb << 10
		}
	}
	return anon, file
}

// TestPatientParameter: a POST Patient/$export with a patient parameter exports those
// patients' data only; at system level the parameter is refused.
func TestPatientParameter(t *testing.T) {
	f := newFixture(t, nil, nil, "", 2)
	f.seed(t, 3, 2)
	var pid string
	f.svc.Store.View(ctx, func(tx fhir.Tx) error {
		return tx.ScanType("Patient", func(r *fhir.Record) bool { pid = r.ID; return false })
	})
	body := []byte(`{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Patient,Observation"},{"name":"patient","valueReference":{"reference":"Patient/` + pid + `"}}]}`)
	post := func(typ string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "http://gw.test/fhir/"+typ+"$export", nil)
		r.Header.Set("Prefer", "respond-async")
		r = r.WithContext(WithCaller(r.Context(), Caller{ClientID: "hub", System: true}))
		w := httptest.NewRecorder()
		f.m.KickOff(w, r, &rest.Request{Method: http.MethodPost, Type: strings.TrimSuffix(typ, "/"), Query: url.Values{}, Body: body})
		return w
	}
	if w := post(""); w.Code != 400 {
		t.Errorf("system level with patient: %d %s", w.Code, w.Body)
	}
	w := post("Patient/")
	if w.Code != 202 {
		t.Fatalf("kick-off: %d %s", w.Code, w.Body)
	}
	m := f.wait(t, "hub", w.Header().Get("Content-Location"))
	counts := map[string]float64{}
	for _, o := range m["output"].([]any) {
		counts[o.(map[string]any)["type"].(string)] = o.(map[string]any)["count"].(float64)
	}
	if counts["Patient"] != 1 || counts["Observation"] != 2 {
		t.Errorf("patient-restricted export: %v", counts)
	}
}
