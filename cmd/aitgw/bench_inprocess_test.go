package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/benchcpu"
	"github.com/aitgw/aitgw/server/smart"
)

// inProcessGateway opens a gateway on a fresh directory with an operator token, for
// benchmarks that call its handler without the network: what they measure is the
// gateway's own cost per request (middleware, audit, handler, store), which aitgw
// bench compares with a bare handler over loopback.
func inProcessGateway(b *testing.B) (*gateway, string) {
	tuneGC() // as aitgw does at start
	dir := b.TempDir()
	cfg := &config{Addr: "127.0.0.1:0", Data: dir, MaxBody: 16 << 20, BaseURL: "http://gw.test/fhir"}
	gw, err := openGateway(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Close() })
	tok, err := smart.MintToken(dir, cfg.smart(), "system/*.cruds", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return gw, tok
}

func serveInProcess(gw *gateway, tok, method, url string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	rec := httptest.NewRecorder()
	gw.handler.ServeHTTP(rec, req)
	return rec
}

// BenchmarkReadByIDInProcess reads one Patient by id through the whole gateway
// (token check, audit event, read, response), 8 goroutines per core.
//
//	go test ./cmd/aitgw -run '^$' -bench ReadByIDInProcess -benchmem
func BenchmarkReadByIDInProcess(b *testing.B) {
	gw, tok := inProcessGateway(b)
	rec := serveInProcess(gw, tok, http.MethodPost, "http://gw.test/fhir/Patient", []byte(`{"resourceType":"Patient","gender":"female","birthDate":"1950-03-12","name":[{"family":"Dupont","given":["Hélène"]}]}`))
	if rec.Code != http.StatusCreated {
		b.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var p struct{ ID string }
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	url := "http://gw.test/fhir/Patient/" + p.ID
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	cpu := benchcpu.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := serveInProcess(gw, tok, http.MethodGet, url, nil); rec.Code != http.StatusOK {
				b.Errorf("read: %d", rec.Code)
				return
			}
		}
	})
	benchcpu.Report(b, cpu)
}

// BenchmarkReferenceTransactionInProcess posts the reference write workload (Patient
// and Observation 8480-6 linked by urn:uuid) through the whole gateway, from 1 to 32
// clients at a time: validation, indexing, group commit with its fsyncs, audit.
//
//	go test ./cmd/aitgw -run '^$' -bench ReferenceTransactionInProcess -benchmem
func BenchmarkReferenceTransactionInProcess(b *testing.B) {
	for _, clients := range []int{1, 4, 16, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchReferenceTransactions(b, clients) })
	}
}

func benchReferenceTransactions(b *testing.B, clients int) {
	gw, tok := inProcessGateway(b)
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchcpu.Process()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := n.Add(1)
				if i > int64(b.N) {
					return
				}
				body := fmt.Appendf(nil, `{"resourceType":"Bundle","type":"transaction","entry":[`+
					`{"fullUrl":"urn:uuid:%08x-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","gender":"%s","birthDate":"19%02d-0%d-1%d"},"request":{"method":"POST","url":"Patient"}},`+
					`{"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"urn:uuid:%08x-0000-4000-8000-000000000001"},`+
					`"effectiveDateTime":"2026-01-01T10:00:00Z","valueQuantity":{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},"request":{"method":"POST","url":"Observation"}}]}`,
					i, [...]string{"male", "female"}[i&1], 30+i%70, 1+i%9, i%10, i, 90+i%90)
				if rec := serveInProcess(gw, tok, http.MethodPost, "http://gw.test/fhir", body); rec.Code != http.StatusOK {
					b.Errorf("transaction: %d %.400s", rec.Code, rec.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	benchcpu.Report(b, cpu)
}
