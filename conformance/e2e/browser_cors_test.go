package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCORSInBrowser: a SMART app served from another origin calls the gateway from a
// real browser. From an origin named by --cors-origin, the preflighted FHIR read
// (with an Authorization header) and the discovery document succeed and the app can
// read the Location-style headers it needs; from an origin not named, the browser
// refuses the answer (the fetch fails), as it must.
func TestCORSInBrowser(t *testing.T) {
	chromium, err := EnsureChromium()
	if err != nil {
		t.Fatalf("the browser tests need Chromium: %v", err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>app</title><p>app</p>")
	})
	allowed := httptest.NewServer(page)
	defer allowed.Close()
	refused := httptest.NewServer(page)
	defer refused.Close()

	g, err := Start(context.Background(), binary, t.TempDir(), "--cors-origin", allowed.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	r, err := g.Client().Do(http.MethodPost, "/Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Cors"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create: %v %v", r, err)
	}
	location := r.Header.Get("Location")

	b, err := NewBrowser(chromium, BrowserOptions{ProfileDir: t.TempDir(), Width: 1024, Height: 768})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// the app's fetch: a FHIR read with a bearer token (preflighted), then discovery
	script := func(target string) string {
		return fmt.Sprintf(`(async () => {
  try {
    const r = await fetch(%q, {headers: {"Authorization": "Bearer %s", "Accept": "application/fhir+json"}});
    const d = await fetch(%q);
    return {ok: r.ok && d.ok, status: r.status, etag: r.headers.get("ETag") || "", lastModified: r.headers.get("Last-Modified") || ""};
  } catch (e) {
    return {ok: false, error: String(e)};
  }
})()`, target, g.Token, strings.TrimSuffix(g.BaseURL, "/fhir")+"/.well-known/smart-configuration")
	}
	type result struct {
		OK           bool   `json:"ok"`
		Status       int    `json:"status"`
		ETag         string `json:"etag"`
		LastModified string `json:"lastModified"`
		Error        string `json:"error"`
	}
	for _, tc := range []struct {
		origin string
		allow  bool
	}{{allowed.URL, true}, {refused.URL, false}} {
		if err := b.Do(15*time.Second, chromedp.Navigate(tc.origin+"/")); err != nil {
			t.Fatal(err)
		}
		var res result
		if err := b.Eval(15*time.Second, script(location), &res); err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.allow && (!res.OK || res.Status != http.StatusOK || res.ETag == "" || res.LastModified == ""):
			t.Errorf("from the allowed origin %s: %+v (the read and its exposed ETag/Last-Modified must reach the app)", tc.origin, res)
		case !tc.allow && res.OK:
			t.Errorf("from the origin %s, not allowed, the browser let the app read the answer: %+v", tc.origin, res)
		}
	}
}
