package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoginThrottled: wrong passwords lock the account out, the right password is
// refused until the window passes, and every failed login is an AuditEvent whose
// address a client cannot forge with X-Forwarded-For.
func TestLoginThrottled(t *testing.T) {
	g := startGateway(t)
	seedCare(t, g)
	f := newFlow(t, g, patientScope, "dr.martin", "wrong password!!")
	var statuses []int
	for range 8 {
		p := f.startWith(map[string]string{"X-Forwarded-For": "203.0.113.9"})
		statuses = append(statuses, p.status)
	}
	if !slices.Equal(statuses, []int{401, 401, 401, 401, 401, 429, 429, 429}) {
		t.Errorf("8 wrong passwords answered %v, want five 401 then 429", statuses)
	}
	f.pass = password
	if p := f.start(patientScope, ""); p.status != 429 || p.header.Get("Retry-After") == "" {
		t.Errorf("the right password during the lockout: %d (Retry-After %q), want 429", p.status, p.header.Get("Retry-After"))
	}
	events := loginEvents(t, g, 9)
	for _, e := range events {
		b, _ := json.Marshal(e)
		if e["outcome"] != "4" || !strings.Contains(string(b), "dr.martin") {
			t.Errorf("login event %s: want outcome 4 naming the account", b)
		}
		if strings.Contains(string(b), "203.0.113.9") || !strings.Contains(string(b), "127.0.0.1") {
			t.Errorf("login event records a forged address (X-Forwarded-For from an untrusted client): %s", b)
		}
	}
}

// loginEvents waits for at least want login AuditEvents and returns them.
func loginEvents(t *testing.T, g *Gateway, want int) []map[string]any {
	t.Helper()
	a := NewClient(g.BaseURL)
	a.Token = tokenFor(t, g, "system/AuditEvent.rs", "")
	var events []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r, err := a.Do("GET", "AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&_count=100", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entry []struct {
				Resource map[string]any `json:"resource"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(r.Body, &b)
		events = events[:0]
		for _, e := range b.Entry {
			events = append(events, e.Resource)
		}
		if len(events) >= want {
			return events
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%d login AuditEvents, want %d", len(events), want)
	return nil
}

// TestTrustedProxyExplicit: with --trusted-proxy naming the proxy's range, the
// address it forwards is the one audited (without it, TestLoginThrottled shows the
// header ignored).
func TestTrustedProxyExplicit(t *testing.T) {
	g, err := Start(context.Background(), binary, t.TempDir(), "--trusted-proxy", "127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	seedCare(t, g)
	f := newFlow(t, g, patientScope, "dr.martin", "wrong password!!")
	if p := f.startWith(map[string]string{"X-Forwarded-For": "203.0.113.9"}); p.status != 401 {
		t.Fatalf("wrong password: %d", p.status)
	}
	b, _ := json.Marshal(loginEvents(t, g, 1))
	if !strings.Contains(string(b), "203.0.113.9") {
		t.Errorf("the trusted proxy's X-Forwarded-For is not the audited address: %s", b)
	}
}

// startWith is start with extra request headers.
func (f *authFlow) startWith(h map[string]string) page {
	f.t.Helper()
	sum := sha256Challenge(f.verifier)
	q := url.Values{"response_type": {"code"}, "client_id": {f.clientID}, "redirect_uri": {flowRedirect},
		"scope": {patientScope}, "aud": {f.g.BaseURL}, "code_challenge_method": {"S256"}, "code_challenge": {sum}}
	req, _ := http.NewRequest("GET", f.origin()+"/auth/authorize?"+q.Encode(), nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return f.do(req)
}
