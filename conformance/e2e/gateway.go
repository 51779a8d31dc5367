// Package e2e proves the gateway end to end: its tests start the real aitgw binary
// as a process and talk to it over loopback, as hospitals and EHR clients will.
//
// The helpers here (building the binary, starting and killing it, a small FHIR HTTP
// client) are exported so that the load command's tests in conformance/bench can
// drive the same process.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// TokenEnv names the environment variable whose value, when set, is sent as
// "Authorization: Bearer <value>" on every request, so the harness keeps working once
// SMART authorisation is switched on.
const TokenEnv = "AITGW_TOKEN"

// ModuleRoot returns the directory holding the go.mod of github.com/aitgw/aitgw,
// found by walking up from the working directory (go test runs in the package dir).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/aitgw/aitgw")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("e2e: go.mod of github.com/aitgw/aitgw not found above the working directory")
		}
		dir = parent
	}
}

// TestReceiverHost is the host the harness allows rest-hook notifications to
// (--notify-allow): the loopback address httptest receivers listen on.
const TestReceiverHost = "127.0.0.1"

// BinaryEnv names the environment variable that, when set, points at an already
// built aitgw binary to use instead of building ./cmd/aitgw (e.g. in CI stages).
const BinaryEnv = "AITGW_BIN"

// Build compiles ./cmd/aitgw into outDir and returns the binary's path, or returns
// the binary named by BinaryEnv when that is set.
func Build(ctx context.Context, outDir string) (string, error) {
	if bin := os.Getenv(BinaryEnv); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%s: %w", BinaryEnv, bin, err)
		}
		return bin, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(outDir, "aitgw")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/aitgw")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/aitgw: %v\n%s", err, out)
	}
	return bin, nil
}

// Gateway is one running aitgw process listening on a loopback port.
type Gateway struct {
	// BaseURL is the FHIR base, e.g. http://127.0.0.1:41234/fhir.
	BaseURL string
	// DataDir is the --data directory, kept across restarts.
	DataDir string
	// Token is an operator access token (system/*.cruds) the gateway accepts, minted
	// with "aitgw token" from the keys under DataDir.
	Token string

	bin  string
	cmd  *exec.Cmd
	done chan struct{}
	logs *limitedBuffer
}

// Start runs bin serve (with extra flags) on a free loopback port with dataDir and waits until
// /fhir/metadata answers. It retries on another port if the first one was taken
// between choosing and binding it.
func Start(ctx context.Context, bin, dataDir string, extra ...string) (*Gateway, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		g, err := startOnce(ctx, bin, dataDir, extra)
		if err == nil {
			return g, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startOnce(ctx context.Context, bin, dataDir string, extra []string) (*Gateway, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	base := "http://" + addr + "/fhir"
	g := &Gateway{BaseURL: base, DataDir: dataDir, bin: bin, done: make(chan struct{}), logs: &limitedBuffer{max: 64 << 10}}
	// Test receivers listen on loopback over http: the operator allowlist opens it
	// (rest-hook endpoints must otherwise be https on a public address).
	g.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", dataDir, "--base-url", base, "--notify-allow", TestReceiverHost}, extra...)...)
	// The environment carries the same settings, as the issue specifies both.
	g.cmd.Env = append(os.Environ(), "AITGW_ADDR="+addr, "AITGW_DATA="+dataDir, "AITGW_BASE_URL="+base)
	g.cmd.Stdout = g.logs
	g.cmd.Stderr = g.logs
	if err := g.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = g.cmd.Wait(); close(g.done) }()

	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-g.done:
			return nil, fmt.Errorf("aitgw exited before serving (%s): %s", g.cmd.ProcessState, g.Logs())
		case <-ctx.Done():
			g.Kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/metadata", nil)
		setAuth(req, "")
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			tok, err := exec.Command(bin, "token", "--data", dataDir, "--base-url", base, "--scope", "system/*.cruds", "--ttl", "2h").Output()
			if err != nil {
				g.Kill()
				return nil, fmt.Errorf("aitgw token: %w", err)
			}
			g.Token = strings.TrimSpace(string(tok))
			return g, nil
		}
	}
	g.Kill()
	return nil, fmt.Errorf("aitgw did not answer GET %s/metadata with 200 within 30s: %s", base, g.Logs())
}

// Kill sends SIGKILL, as a power cut or the OOM killer would, and waits for the exit.
func (g *Gateway) Kill() {
	if g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-g.done
}

// Stop asks the process to shut down (SIGTERM) and kills it after 10 s.
func (g *Gateway) Stop() {
	if g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.Kill()
	}
}

// Exited reports whether the process has ended (a crash shows up here).
func (g *Gateway) Exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// Client returns a client of this gateway carrying its token.
func (g *Gateway) Client() *Client {
	c := NewClient(g.BaseURL)
	c.Token = g.Token
	return c
}

// Logs returns the tail of what the process wrote to stdout and stderr.
func (g *Gateway) Logs() string { return g.logs.String() }

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// setAuth adds the bearer token: the client's own, else the one from TokenEnv.
func setAuth(req *http.Request, token string) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		return
	}
	if tok := strings.TrimSpace(os.Getenv(TokenEnv)); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
}

// limitedBuffer keeps the last max bytes written to it; safe for concurrent writers.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
