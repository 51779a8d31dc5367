package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// EnsureChromium returns the path of Debian's Chromium, installing the package with
// apt-get when it is missing (apt-get update first if the install alone fails). It
// returns an error, never a silent skip, when the browser cannot be had.
func EnsureChromium() (string, error) {
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath, nil
	}
	install := func() ([]byte, error) {
		cmd := exec.Command("apt-get", "install", "-y", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if _, err := install(); err != nil {
		if up, err := exec.Command("apt-get", "update").CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get update: %v\n%s", err, up)
		}
		if out, err := install(); err != nil {
			return "", fmt.Errorf("apt-get install -y chromium: %v\n%s", err, out)
		}
	}
	if _, err := os.Stat(ChromiumPath); err != nil {
		return "", fmt.Errorf("chromium installed but %s is missing: %w", ChromiumPath, err)
	}
	return ChromiumPath, nil
}

// Browser is one headless Chromium with a fresh profile, driven over the DevTools
// protocol. Every request goes through the Fetch domain, so that the test sees what
// the page sent (the PKCE parameters) and answers HTTP Basic challenges.
type Browser struct {
	// Ctx runs chromedp actions in the browser's first tab.
	Ctx    context.Context
	cancel []context.CancelFunc

	mu   sync.Mutex
	sent []SentRequest
}

// SentRequest is a request the page made.
type SentRequest struct {
	Method, URL, Body string
}

// BrowserOptions configure NewBrowser.
type BrowserOptions struct {
	// ProfileDir is the fresh --user-data-dir.
	ProfileDir string
	// Width and Height are the window size (a tablet: 1024 × 1366).
	Width, Height int
	// BasicUser and BasicPassword answer an HTTP Basic challenge (the built-in
	// login), as a user typing them in the browser's dialog would.
	BasicUser, BasicPassword string
}

// NewBrowser starts headless Chromium at path with the flags of a quiet,
// reproducible session: no GPU, no QUIC, no first run, background networking,
// component updates or sync.
func NewBrowser(path string, o BrowserOptions) (*Browser, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(o.ProfileDir),
		chromedp.WindowSize(o.Width, o.Height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &Browser{Ctx: ctx, cancel: []context.CancelFunc{cancelCtx, cancelAlloc}}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	auth := chromedp.Events(ctx, fetch.AuthRequired)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			b.record(ev)
			go chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range auth {
			if err != nil {
				return
			}
			answer := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
			if o.BasicUser != "" {
				answer = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: o.BasicUser, Password: o.BasicPassword}
			}
			go chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: answer})
		}
	}()
	handleAuth := true
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handleAuth}); err != nil {
		b.Close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return b, nil
}

func (b *Browser) record(ev fetch.EventRequestPaused) {
	if ev.Request == nil {
		return
	}
	var body strings.Builder
	for _, e := range ev.Request.PostDataEntries {
		body.Write(e.Bytes)
	}
	b.mu.Lock()
	b.sent = append(b.sent, SentRequest{Method: ev.Request.Method, URL: ev.Request.URL, Body: body.String()})
	b.mu.Unlock()
}

// Sent returns the requests the pages made so far whose URL contains part.
func (b *Browser) Sent(part string) []SentRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []SentRequest
	for _, r := range b.sent {
		if strings.Contains(r.URL, part) {
			out = append(out, r)
		}
	}
	return out
}

// Close stops the browser.
func (b *Browser) Close() {
	for _, c := range b.cancel {
		c()
	}
}

// Do runs actions with a time limit.
func (b *Browser) Do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise) and
// decodes its JSON value into out.
func (b *Browser) Eval(timeout time.Duration, expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Screenshot captures the element sel (CSS) as a PNG.
func (b *Browser) Screenshot(timeout time.Duration, sel string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
}

// ArtefactDir is where browser tests save their screenshots: $AITGW_ARTEFACTS when
// set, else a directory under the system temp dir named after the test (kept after
// the run, unlike t.TempDir, so that CI can collect it).
func ArtefactDir(test string) (string, error) {
	dir := os.Getenv("AITGW_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "aitgw-artefacts")
	}
	dir = filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(test))
	return dir, os.MkdirAll(dir, 0o755)
}
