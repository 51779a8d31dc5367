// Package web serves the gateway's pages for people: the landing page at / and the
// clinicians' pathway view, a SMART on FHIR app at /app/ whose assets are embedded in
// the binary (no build step: the browser loads the ES modules as they are).
//
// The app holds no patient data of its own: it signs in with the gateway's SMART
// authorization server (fhirclient.js, PKCE) and reads the FHIR API with the token it
// got, so the scopes and the patient compartment apply to it as to any client. What
// this package serves without a token is public: the pages, the scripts, and the
// referential's tables (limits, steps) the screens draw.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// Config is what the pages need to know of the gateway.
type Config struct {
	// BaseURL is the public FHIR base, e.g. https://gw.example.org/fhir.
	BaseURL string
	// Software and Version name the gateway on the landing page.
	Software, Version string
}

// Handler serves the landing page and the app, and hands every other request to
// next. It answers before next's middleware on purpose: these paths are public and
// need no token, whatever the FHIR routes require.
type Handler struct {
	cfg    Config
	next   http.Handler
	static http.Handler
	// index is the app page, served at /app/ and /app/index.html (its redirect URIs)
	// as it is: a file server would redirect index.html away, and the query with it.
	index             []byte
	refJSON, confJSON []byte
}

// Wrap returns a Handler serving the pages in front of next.
func Wrap(next http.Handler, cfg Config) (*Handler, error) {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	ref, err := referentialJSON()
	if err != nil {
		return nil, err
	}
	conf, err := appConfigJSON(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, next: next, index: index, refJSON: ref, confJSON: conf,
		static: http.StripPrefix("/app/", http.FileServerFS(sub))}
	return h, nil
}

// ServeHTTP routes / and /app/ to the pages, the rest to next (the implementer page
// at /ig/ is the pathway's, generated from its tables: mapping/pathway).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p != "/" && p != "/app" && !strings.HasPrefix(p, "/app/") {
		h.next.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "méthode non permise", http.StatusMethodNotAllowed)
		return
	}
	secureHeaders(w)
	switch p {
	case "/":
		h.landing(w, r)
	case "/app":
		http.Redirect(w, r, "/app/", http.StatusMovedPermanently)
	case "/app/", "/app/index.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(h.index)
	case "/app/referential.json":
		serveJSON(w, h.refJSON)
	case "/app/config.json":
		serveJSON(w, h.confJSON)
	default:
		// assets change with the binary only: revalidate, never serve a stale app
		w.Header().Set("Cache-Control", "no-cache")
		h.static.ServeHTTP(w, r)
	}
}

// secureHeaders confines the pages to the gateway's own scripts and API, and forbids
// framing (clickjacking). Chart.js sizes its canvas through inline styles.
func secureHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func serveJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}
