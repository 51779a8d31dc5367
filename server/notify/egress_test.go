package notify

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRestHookEndpointSSRF: issue 15 item 7, the endpoints the attack run stored are
// refused; public https and allowlisted hosts pass.
func TestRestHookEndpointSSRF(t *testing.T) {
	e := &Egress{Allow: []string{"127.0.0.1", "hub.chu.internal:8443"}}
	for _, bad := range []string{
		"https://169.254.169.254/latest/meta-data/",
		"https://[fd00:ec2::254]/latest/meta-data/",
		"https://metadata.google.internal/computeMetadata/v1/",
		"https://METADATA.google.internal./",
		"https://10.0.0.5/hook", "https://172.16.1.1/", "https://192.168.1.10/",
		"https://127.0.0.2/", "https://[::1]/", "https://localhost/", "https://app.localhost/",
		"https://0.0.0.0/", "https://[::]/", "https://0/",
		"https://2130706433/", "https://0x7f000001/", "https://0177.0.0.1/", "https://127.1/",
		"https://0xa9.0xfe.0xa9.0xfe/", "https://[::ffff:169.254.169.254]/", "https://[::ffff:127.0.0.1]/",
		"https://100.64.0.1/", "https://[fe80::1]/", "https://224.0.0.1/",
		"http://hooks.example.org/", // plain http
		"ftp://hooks.example.org/", "https://user:pw@hooks.example.org/", "/relative", "https:///nohost",
		"https://hub.chu.internal/", // allowlisted on 8443 only
	} {
		if err := e.CheckEndpoint(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	for _, good := range []string{
		"https://hooks.example.org/fhir", "https://8.8.8.8/hook", "https://[2606:4700::1111]/",
		"http://127.0.0.1:41234/hook", "https://127.0.0.1/", "http://hub.chu.internal:8443/r",
	} {
		if err := e.CheckEndpoint(good); err != nil {
			t.Errorf("%s refused: %v", good, err)
		}
	}
}

// TestEgressDialRechecksResolvedAddress: a name that resolves to a forbidden address
// (DNS rebinding) is refused when the connection is made, not only when stored.
func TestEgressDialRechecksResolvedAddress(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	// the dialer checks the address it connects to, whatever the URL named
	e := &Egress{}
	_, err := e.DialContext(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", port))
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("dial to loopback without allowlist: %v", err)
	}
	// the client refuses too, with and without the static check
	resp, err := e.Client().Post("https://127.0.0.1:"+port+"/", "application/fhir+json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Fatal("client posted to loopback")
	}
	if hit {
		t.Fatal("the receiver was reached")
	}
	// allowlisted: it connects
	ok := &Egress{Allow: []string{"127.0.0.1:" + port}}
	resp, err = ok.Client().Post(srv.URL, "application/fhir+json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("allowlisted receiver: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !hit {
		t.Fatal("allowlisted receiver not reached")
	}
}

// TestEgressControlRefusesRebinding: the dialer's Control hook sees the resolved
// address, whatever name the URL held.
func TestEgressControlRefusesRebinding(t *testing.T) {
	for _, addr := range []string{"169.254.169.254:80", "[fd00:ec2::254]:80", "10.1.2.3:443", "[::1]:443", "0.0.0.0:443"} {
		if err := control("tcp", addr, nil); err == nil {
			t.Errorf("%s passed the dial check", addr)
		}
	}
	if err := control("tcp", "93.184.216.34:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
}
