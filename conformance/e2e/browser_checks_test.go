package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// axeCore returns the source of axe-core (npm, pinned), injected into the pages.
func axeCore(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(npmModule(t, "axe-core", "4.14.1"), "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// axeViolations injects axe-core in the page shown and runs it (WCAG 2 A and AA
// rules, best practices).
func axeViolations(t *testing.T, b *Browser, axeSource, page string) []axeViolation {
	t.Helper()
	if err := b.Eval(20*time.Second, axeSource+"\n;true", nil); err != nil {
		t.Fatalf("inject axe-core in the %s: %v", page, err)
	}
	var violations []axeViolation
	if err := b.Eval(60*time.Second, `axe.run(document, {resultTypes: ["violations"]}).then((r) => r.violations.map((v) =>
		({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))})))`, &violations); err != nil {
		t.Fatalf("axe-core on the %s: %v", page, err)
	}
	return violations
}

// axeAudit fails on any serious or critical violation of the page shown; lesser
// ones are logged.
func axeAudit(t *testing.T, b *Browser, axeSource, page string) {
	t.Helper()
	for _, v := range axeViolations(t, b, axeSource, page) {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("axe-core, %s: %s violation %s (%s) at %v", page, v.Impact, v.ID, v.Help, v.Nodes)
		} else {
			t.Logf("axe-core, %s: %s violation %s (%s) at %v", page, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
}

// axeCanary proves the audit can fail: an image without a text alternative added
// to the page must be reported (image-alt, critical).
func axeCanary(t *testing.T, b *Browser, axeSource string) {
	t.Helper()
	if err := b.Eval(5*time.Second, `(() => { const i = document.createElement("img"); i.src = "data:,"; i.id = "axe-canary"; document.body.append(i); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range axeViolations(t, b, axeSource, "canary") {
		found = found || (v.ID == "image-alt" && v.Impact == "critical")
	}
	if !found {
		t.Errorf("axe-core did not report an image without alt text: the audit checks nothing")
	}
	b.Eval(5*time.Second, `(() => { document.getElementById("axe-canary").remove(); return true; })()`, nil)
}

// textOf reads the text of the element sel.
func textOf(t *testing.T, b *Browser, sel string) string {
	t.Helper()
	var s string
	if err := b.Eval(5*time.Second, `(document.querySelector(`+jsString(sel)+`) || {}).textContent || ""`, &s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

// checkHeader: the header names the patient by INS, and the GP and the referring
// physician the referral names.
func checkHeader(t *testing.T, b *Browser, c *Client, sp samplePathway) {
	t.Helper()
	var ins string
	for _, i := range sp.Patient["identifier"].([]any) {
		if m := i.(map[string]any); m["system"] == "urn:oid:1.2.250.1.213.1.4.8" {
			ins = m["value"].(string)
		}
	}
	if got := textOf(t, b, "#patient-ins"); ins == "" || got != ins {
		t.Errorf("INS shown %q, want %q", got, ins)
	}
	family := func(ref string) string {
		var p struct {
			Name []struct{ Family string } `json:"name"`
		}
		viewGetJSON(t, c, ref, &p)
		return strings.ToUpper(p.Name[0].Family)
	}
	if got, want := textOf(t, b, "#patient-gp"), family(sp.Dossier.GP); !strings.Contains(got, want) {
		t.Errorf("GP shown %q, want %q", got, want)
	}
	if got, want := textOf(t, b, "#patient-referrer"), family(sp.Dossier.Requester); !strings.Contains(got, want) {
		t.Errorf("referring physician shown %q, want %q", got, want)
	}
}

// checkTimeline: one row per CarePlan activity, in order, with its code, status and
// overdue flag; the refill step lists every refill Procedure.
func checkTimeline(t *testing.T, b *Browser, c *Client, sp samplePathway) {
	t.Helper()
	var cp struct {
		Activity []struct {
			Detail struct {
				Code struct {
					Coding []struct{ Code string } `json:"coding"`
				} `json:"code"`
				Status    string `json:"status"`
				Extension []struct {
					URL          string `json:"url"`
					ValueBoolean bool   `json:"valueBoolean"`
				} `json:"extension"`
			} `json:"detail"`
		} `json:"activity"`
	}
	viewGetJSON(t, c, "CarePlan/"+sp.CarePlan, &cp)
	var rows []struct {
		Code, Status string
		Overdue      bool
		Refs         []string
	}
	if err := b.Eval(5*time.Second, `[...document.querySelectorAll("#parcours .pathway")].filter((p) => p.dataset.careplan === `+jsString("CarePlan/"+sp.CarePlan)+`)
		.flatMap((p) => [...p.querySelectorAll("li.step")]).map((li) =>
		({code: li.dataset.stepCode, status: li.dataset.status, overdue: li.dataset.overdue === "true",
		  refs: [...li.querySelectorAll(".resources li")].map((x) => x.dataset.ref)}))`, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(cp.Activity) || len(rows) != len(rules.AITSteps) {
		t.Fatalf("timeline has %d steps, the CarePlan %d activities (%d AIT steps)", len(rows), len(cp.Activity), len(rules.AITSteps))
	}
	for i, a := range cp.Activity {
		overdue := false
		for _, e := range a.Detail.Extension {
			overdue = overdue || (e.URL == mapping.ExtOverdue && e.ValueBoolean)
		}
		if rows[i].Code != a.Detail.Code.Coding[0].Code || rows[i].Status != a.Detail.Status || rows[i].Overdue != overdue {
			t.Errorf("timeline step %d: %+v, CarePlan says %s %s overdue=%v", i+1, rows[i], a.Detail.Code.Coding[0].Code, a.Detail.Status, overdue)
		}
	}
	refills := map[string]bool{}
	for _, raw := range viewSearch(t, c, "Procedure?patient="+sp.Dossier.Patient+"&_count=100") {
		var p struct {
			ID   string
			Code struct {
				Coding []struct{ Code string } `json:"coding"`
			} `json:"code"`
		}
		json.Unmarshal(raw, &p)
		if len(p.Code.Coding) > 0 && p.Code.Coding[0].Code == mapping.CodeRefill {
			refills["Procedure/"+p.ID] = true
		}
	}
	for _, r := range rows {
		if r.Code != "refill" {
			continue
		}
		shown := map[string]bool{}
		for _, ref := range r.Refs {
			shown[ref] = true
		}
		for ref := range refills {
			if !shown[ref] {
				t.Errorf("the refill step does not list %s (lists %v)", ref, r.Refs)
			}
		}
		if len(refills) != 4 {
			t.Errorf("%d refills stored, want 4", len(refills))
		}
	}
}

// checkDossier: the checklist says what $ait-dossier-status says.
func checkDossier(t *testing.T, b *Browser, c *Client, sp samplePathway) {
	t.Helper()
	var st struct {
		Parameter []struct {
			Name         string `json:"name"`
			ValueBoolean bool   `json:"valueBoolean"`
			Resource     struct {
				Issue []json.RawMessage `json:"issue"`
			} `json:"resource"`
		} `json:"parameter"`
	}
	viewGetJSON(t, c, sp.Dossier.Referral+"/$ait-dossier-status", &st)
	complete, issues := false, 0
	for _, p := range st.Parameter {
		switch p.Name {
		case "complete":
			complete = p.ValueBoolean
		case "outcome":
			issues = len(p.Resource.Issue)
		}
	}
	var got struct {
		Complete string
		Rows     int
	}
	b.Eval(5*time.Second, `({complete: document.querySelector("#dossier-summary").dataset.complete,
		rows: document.querySelectorAll("#dossier-table tbody tr").length})`, &got)
	if want := map[bool]string{true: "true", false: "false"}[complete]; got.Complete != want {
		t.Errorf("dossier shown complete=%s, $ait-dossier-status says %v", got.Complete, complete)
	}
	if !complete && got.Rows != issues {
		t.Errorf("dossier checklist has %d rows, $ait-dossier-status %d issues", got.Rows, issues)
	}
}

// checkPump: the pump screen's dates are those of the last refill and
// mapping.PlanRefill's dry date (38 mL at 0.6 mL/d), marked on the calendar.
func checkPump(t *testing.T, b *Browser, c *Client, sp samplePathway) {
	t.Helper()
	at, _ := time.Parse(time.RFC3339, "2026-07-18T10:00:00Z")
	next, _ := time.Parse(time.RFC3339, "2026-08-15T09:00:00Z")
	plan := mapping.PlanRefill(at, 38, 0.6, next, rules.DefaultConfig())
	for sel, want := range map[string]string{"#pump-last": "18/07/2026", "#pump-next": "15/08/2026", "#pump-dry": plan.DryDate.Format("02/01/2006"), "#pump-reservoir": "40 mL"} {
		if got := textOf(t, b, sel); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	var marks []string
	b.Eval(5*time.Second, `[...document.querySelectorAll("#pompe td[data-mark]")].map((td) => td.dataset.mark + " " + td.dataset.date)`, &marks)
	want := "last 2026-07-18 next 2026-08-15 dry " + plan.DryDate.Format("2006-01-02")
	if strings.Join(marks, " ") != want {
		t.Errorf("calendar marks %v, want %s", marks, want)
	}
}

// checkLettersAndIssues: one row per Communication with its delivery status, and the
// open DetectedIssues counted.
func checkLettersAndIssues(t *testing.T, b *Browser, c *Client, sp samplePathway) {
	t.Helper()
	want := map[string]string{}
	for _, raw := range viewSearch(t, c, "Communication?patient="+sp.Dossier.Patient+"&_count=1000") {
		var m struct{ ID, Status string }
		json.Unmarshal(raw, &m)
		want["Communication/"+m.ID] = m.Status
	}
	var rows [][2]string
	b.Eval(5*time.Second, `[...document.querySelectorAll("#letters-table tbody tr")].map((tr) => [tr.dataset.ref, tr.dataset.status])`, &rows)
	if len(want) == 0 || len(rows) != len(want) {
		t.Errorf("letters: %d rows, %d Communications", len(rows), len(want))
	}
	for _, r := range rows {
		if s, ok := want[r[0]]; !ok || s != r[1] {
			t.Errorf("letter %s shown %q, stored %q", r[0], r[1], s)
		}
	}
	open := map[string]bool{}
	for _, raw := range viewSearch(t, c, "DetectedIssue?patient="+sp.Dossier.Patient+"&_count=1000") {
		var m struct{ ID, Status string }
		json.Unmarshal(raw, &m)
		if m.Status != "cancelled" && m.Status != "entered-in-error" {
			open["DetectedIssue/"+m.ID] = true
		}
	}
	var issues []string
	b.Eval(5*time.Second, `[...document.querySelectorAll("#issues-table tbody tr")].map((tr) => tr.dataset.ref)`, &issues)
	if len(open) == 0 || len(issues) != len(open) {
		t.Errorf("clinical issues: %v shown, open ones stored %v", issues, open)
	}
	for _, ref := range issues {
		if !open[ref] {
			t.Errorf("clinical issues: %s shown, but it is not open", ref)
		}
	}
	if n := textOf(t, b, "#issues-summary"); !strings.HasPrefix(n, itoaJSON(len(open))+" ") {
		t.Errorf("clinical issues summary %q, %d open", n, len(open))
	}
}

func itoaJSON(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestLandingPageWithoutToken: / is an HTML page in French that links to the app,
// the implementation guide, the CapabilityStatement and the guide's package, all
// reachable without a token except the guide's pages (another room serves them);
// the app's page, scripts and referential are served from the binary.
func TestLandingPageWithoutToken(t *testing.T) {
	g := startGateway(t)
	origin := strings.TrimSuffix(g.BaseURL, "/fhir")
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(origin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sb strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, sb.String()
	}
	resp, body := get("/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `lang="fr"`) {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, link := range []string{`href="/app/launch.html"`, `href="/ig/"`, `href="/fhir/metadata"`, `href="/ig/package.tgz"`} {
		if !strings.Contains(body, link) {
			t.Errorf("the landing page lacks the link %s", link)
		}
	}
	for path, typ := range map[string]string{"/fhir/metadata": "application/fhir+json", "/ig/package.tgz": "application/gzip",
		"/app/": "text/html", "/app/index.html": "text/html", "/app/launch.html": "text/html", "/app/js/app.js": "text/javascript",
		"/app/vendor/fhir-client.pure.min.js": "text/javascript", "/app/referential.json": "application/json", "/app/config.json": "application/json"} {
		if resp, _ := get(path); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), typ) {
			t.Errorf("GET %s without a token: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if resp, _ := get("/fhir/Patient"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /fhir/Patient without a token: %d, want 401", resp.StatusCode)
	}
}
