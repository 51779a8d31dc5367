package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestTracesReachTheCollector: with --otlp-endpoint, the gateway exports spans over
// OTLP/HTTP for requests, validation and store commits, and no span carries patient
// data (the patient's family name is in no exported byte).
func TestTracesReachTheCollector(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	var paths []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths = append(paths, r.URL.Path)
		if r.URL.Path == "/v1/traces" { // where a collector takes traces
			got.Write(b)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	g, err := Start(context.Background(), binary, t.TempDir(), "--otlp-endpoint", collector.URL)
	if err != nil {
		t.Fatal(err)
	}
	const family = "Qwertyuiopasd"
	r, err := g.Client().Do(http.MethodPost, "/Patient", []byte(`{"resourceType":"Patient","name":[{"family":"`+family+`"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create: %v %v", r, err)
	}
	g.Stop() // flushes the exporter
	mu.Lock()
	defer mu.Unlock()
	for _, span := range []string{"create", "store.commit", "validate.resource"} {
		if !bytes.Contains(got.Bytes(), []byte(span)) {
			t.Errorf("no %q span reached the collector (%d bytes received at %v)", span, got.Len(), paths)
		}
	}
	if bytes.Contains(got.Bytes(), []byte(family)) {
		t.Errorf("a span carries the patient's name")
	}
}
