package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOperationsProbesMetricsAndLogs is what an operations team checks in its first
// hour: /healthz and /readyz answer without a token and carry no patient data; every
// answer has a request id, echoed from a safe caller id; /metrics on its own address
// counts requests by interaction, type and status with latency histograms, store
// commits, validation and the outbox; JSON logs carry the request id, and neither the
// logs nor the metrics carry a patient's name, identifier or id.
func TestOperationsProbesMetricsAndLogs(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", port)
	g, err := Start(context.Background(), binary, t.TempDir(), "--metrics-addr", metricsAddr, "--log-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	origin := strings.TrimSuffix(g.BaseURL, "/fhir")

	for _, probe := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(origin + probe)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"pass"`) {
			t.Fatalf("GET %s without a token = %d %s, want 200 pass", probe, resp.StatusCode, body)
		}
		if probe == "/readyz" {
			for _, check := range []string{"store", "notification-worker"} {
				if !strings.Contains(string(body), `"`+check+`"`) {
					t.Errorf("/readyz does not report the %s check: %s", check, body)
				}
			}
		}
	}

	// a patient whose name and identifier must appear in no log line and no metric
	const family, ins = "Zyxwvutsrq", "1850275123456"
	c := g.Client()
	r, err := c.Do(http.MethodPost, "/Patient", fmt.Appendf(nil, `{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":%q}],"name":[{"family":%q}]}`, ins, family), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create = %v %v", r, err)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(r.Body, &created)
	req, _ := http.NewRequest(http.MethodGet, g.BaseURL+"/Patient?family="+family, nil)
	req.Header.Set("Authorization", "Bearer "+g.Token)
	req.Header.Set("X-Request-Id", "hub-trace-0042")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "hub-trace-0042" {
		t.Errorf("a safe caller request id is not echoed: %q", got)
	}
	req, _ = http.NewRequest(http.MethodGet, g.BaseURL+"/metadata", nil)
	req.Header.Set("X-Request-Id", "bad id\r\nX-Injected: 1")
	resp, err = http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \r\n:") {
			t.Errorf("an unsafe caller request id was echoed or none was made: %q", got)
		}
	}

	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`aitgw_http_requests_total{interaction="create",status="201",type="Patient"} 1`,
		`aitgw_http_request_duration_seconds_bucket{interaction="search-type",type="Patient"`,
		`aitgw_store_commit_duration_seconds_count{outcome="committed"}`,
		`aitgw_validation_duration_seconds_count{kind="resource",verdict="valid"}`,
		"aitgw_outbox_pending ", "aitgw_outbox_oldest_pending_seconds ", "aitgw_outbox_dead_letters ",
		"aitgw_audit_backlog ", "aitgw_pathway_overdue_steps ", "aitgw_build_info{",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	g.Stop()
	logs := g.Logs()
	for _, secret := range []string{family, ins, created.ID, g.Token} {
		if secret != "" && (strings.Contains(logs, secret) || strings.Contains(string(metrics), secret)) {
			t.Errorf("patient data or a token (%.12s…) is in the logs or the metrics", secret)
		}
	}
	sawID, sawShutdown := false, false
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			continue // the Go runtime may print non-JSON lines; slog's are JSON
		}
		if line["request_id"] == "hub-trace-0042" {
			sawID = true
		}
		if msg, _ := line["msg"].(string); strings.HasPrefix(msg, "shutting down") {
			sawShutdown = true
		}
	}
	if !sawID {
		t.Errorf("no JSON log line carries the request id: %s", logs)
	}
	if !sawShutdown {
		t.Errorf("nothing logged on shutdown")
	}
}
