package web

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/mapping/rules"
	"github.com/aitgw/aitgw/server/smart"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h, err := Wrap(next, Config{BaseURL: "https://gw.example.org/fhir", Software: "AIT Gateway", Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// TestRoutes: the pages answer GET without a token, in French, with a policy that
// confines them to the gateway's own scripts; everything else goes on to the FHIR
// server.
func TestRoutes(t *testing.T) {
	h := newHandler(t)
	for _, tc := range []struct {
		method, path string
		status       int
		typ, body    string
	}{
		{"GET", "/", 200, "text/html", `href="/app/launch.html"`},
		{"GET", "/", 200, "text/html", `href="/ig/"`},
		{"GET", "/", 200, "text/html", `href="/fhir/metadata"`},
		{"GET", "/", 200, "text/html", `href="/ig/package.tgz"`},
		{"GET", "/", 200, "text/html", "version 1.2.3"},
		{"HEAD", "/", 200, "text/html", ""},
		{"GET", "/app", 301, "", ""},
		{"GET", "/app/", 200, "text/html", `<main id="contenu" data-state="loading"`},
		{"GET", "/app/index.html?code=x&state=y", 200, "text/html", `src="js/app.js"`},
		{"GET", "/app/launch.html", 200, "text/html", `src="js/launch.js"`},
		{"GET", "/app/js/doses.js", 200, "text/javascript", "renderDoses"},
		{"GET", "/app/vendor/chart.umd.min.js", 200, "text/javascript", "Chart.js"},
		{"GET", "/app/config.json", 200, "application/json", `"clientId":"aitgw-pathway-view"`},
		{"GET", "/app/nothing.js", 404, "", ""},
		{"POST", "/", 405, "", ""},
		{"DELETE", "/app/index.html", 405, "", ""},
		{"GET", "/fhir/Patient", 418, "", ""},
		{"GET", "/ig/package.tgz", 418, "", ""},
		{"GET", "/application", 418, "", ""},
	} {
		rec := get(h, tc.method, tc.path)
		if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.typ) || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s %s: %d %q, want %d %q containing %q", tc.method, tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.status, tc.typ, tc.body)
		}
		if tc.status < 400 && tc.status != 418 && !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s %s: no Content-Security-Policy", tc.method, tc.path)
		}
	}
}

// TestReferentialServesTheRulesTables: the dose chart's limits are the rules
// table's rows, and every step of both pathways has its French label.
func TestReferentialServesTheRulesTables(t *testing.T) {
	rec := get(newHandler(t), "GET", "/app/referential.json")
	var ref Referential
	if err := json.Unmarshal(rec.Body.Bytes(), &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Limits) != len(rules.IntrathecalLimits) {
		t.Fatalf("%d limits served, the rules have %d", len(ref.Limits), len(rules.IntrathecalLimits))
	}
	for i, l := range rules.IntrathecalLimits {
		got := ref.Limits[i]
		if got.Molecule != l.Molecule || got.DoseMax != l.DoseMax || got.DoseMin != l.DoseMin || got.DoseUnit != l.DoseUnit ||
			got.Hard != l.DoseMaxIsHard || got.Section != l.Section || got.Citation != rules.Cite(l.Section) {
			t.Errorf("limit %d: %+v, rules say %+v", i, got, l)
		}
	}
	zic, _ := rules.LimitFor("ziconotide")
	if z := ref.Limits[1]; z.Molecule != "ziconotide" || z.DoseMax != zic.DoseMax || z.Typical != rules.ZiconotideTypicalMax.Value {
		t.Errorf("ziconotide row %+v", z)
	}
	for cat, steps := range map[string][]rules.Step{"ait-pathway": rules.AITSteps, "ir-pathway": rules.IRSteps} {
		if len(ref.Steps[cat]) != len(steps) {
			t.Fatalf("%s: %d steps served, %d in the rules", cat, len(ref.Steps[cat]), len(steps))
		}
		for i, s := range steps {
			if got := ref.Steps[cat][i]; got.Code != s.Code || got.Label == "" || got.Citation != rules.Cite(s.Section) || len(got.Facts) == 0 {
				t.Errorf("%s step %d: %+v", cat, i+1, got)
			}
		}
	}
	if ref.Molecules["N02BG08"] != "ziconotide" {
		t.Errorf("molecule codes: %v", ref.Molecules)
	}
}

// TestVendoredFilesMatchTheirRecord: each vendored library is the file VENDOR.md
// names, byte for byte.
func TestVendoredFilesMatchTheirRecord(t *testing.T) {
	sub, _ := fs.Sub(assets, "assets/vendor")
	f, err := sub.Open("VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 7 || !strings.HasSuffix(strings.TrimSpace(cells[1]), ".js") {
			continue
		}
		name, sum := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[5])
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, VENDOR.md records %s", name, got, sum)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d vendored files recorded, want fhirclient and Chart.js", n)
	}
}

// countingKV counts writes.
type countingKV struct {
	smart.KV
	puts int
}

func (k *countingKV) Put(ctx context.Context, ns, key string, val []byte) error {
	if key == ClientID { // the client's record, not the registry's own bookkeeping
		k.puts++
	}
	return k.KV.Put(ctx, ns, key, val)
}

// TestRegisterPathwayView: the app is a public client whose only redirect URIs are
// the gateway's own app page, with read-only scopes; a restart writes nothing.
func TestRegisterPathwayView(t *testing.T) {
	ctx := context.Background()
	kv := &countingKV{KV: smart.NewMemKV()}
	if err := RegisterPathwayView(ctx, kv, "https://gw.example.org/"); err != nil {
		t.Fatal(err)
	}
	c, err := smart.GetClient(ctx, kv, ClientID)
	if err != nil || c == nil {
		t.Fatalf("client not stored: %v", err)
	}
	if c.Type != smart.ClientPublic || strings.Join(c.RedirectURIs, " ") != "https://gw.example.org/app/ https://gw.example.org/app/index.html" {
		t.Errorf("client %+v", c)
	}
	for _, s := range strings.Fields(c.Scope) {
		if strings.Contains(s, "/") && !strings.HasSuffix(s, ".rs") && s != "launch/patient" {
			t.Errorf("scope %s lets the view write", s)
		}
	}
	if err := RegisterPathwayView(ctx, kv, "https://gw.example.org"); err != nil || kv.puts != 1 {
		t.Errorf("a second start wrote the client again (%d writes, %v)", kv.puts, err)
	}
	if err := RegisterPathwayView(ctx, kv, "https://other.example.org"); err != nil || kv.puts != 2 {
		t.Errorf("a new origin did not update the client (%d writes, %v)", kv.puts, err)
	}
}
