package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// appScreens are the sections of the pathway view, each saved as a screenshot.
var appScreens = []string{"patient", "parcours", "dossier", "pompe", "doses", "alertes", "courriers"}

// TestPathwayViewInBrowser drives Debian's Chromium against the real binary: after
// the sample patient's whole AIT pathway is posted, a clinician launches the pathway
// view standalone (PKCE, login, picker, consent), and every screen is checked
// against the FHIR data behind it: the timeline against the CarePlan, the dose chart
// against the prescriptions, the dossier against $ait-dossier-status, the pump's dry
// date against mapping.PlanRefill, the letters against the Communications. axe-core
// audits the app and the landing page (no serious or critical violation); the
// keyboard reaches the content; an EHR launch opens the same patient without the
// picker; on a tablet held upright nothing scrolls sideways. Screenshots of each
// screen are saved as artefacts.
func TestPathwayViewInBrowser(t *testing.T) {
	chromium, err := EnsureChromium()
	if err != nil {
		t.Fatalf("the browser tests need Chromium: %v", err)
	}
	axeSource := axeCore(t)
	g := startGateway(t)
	c := g.Client()
	sp := postSamplePathway(t, c)
	var plan struct {
		Author struct{ Reference string } `json:"author"`
	}
	viewGetJSON(t, c, "CarePlan/"+sp.CarePlan, &plan)
	user := plan.Author.Reference // the coordinating algologist sees the patient
	if user == "" {
		user = sp.Cast.Algologist
	}
	const password = "correct horse battery staple"
	addClinicianLogin(t, g, "dr.algo", user, password)

	artefacts, err := ArtefactDir(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", artefacts)
	b, err := NewBrowser(chromium, BrowserOptions{ProfileDir: t.TempDir(), Width: 1024, Height: 1366,
		BasicUser: "dr.algo", BasicPassword: password})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	shots := map[string][]byte{}
	shoot := func(name, sel string) {
		png, err := b.Screenshot(20*time.Second, sel)
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		shots[name] = png
		if err := os.WriteFile(filepath.Join(artefacts, name+".png"), png, 0o644); err != nil {
			t.Error(err)
		}
	}

	origin := strings.TrimSuffix(g.BaseURL, "/fhir")
	patientID := idOf(sp.Dossier.Patient)
	seen := launchView(t, b, origin+"/app/launch.html?iss="+url.QueryEscape(g.BaseURL), patientID, shoot)
	if !seen["picker"] || !seen["consent"] {
		t.Errorf("a standalone launch went through %v: want the patient picker and the consent", seen)
	}
	checkPKCE(t, b)
	for i, s := range appScreens {
		shoot(fmt.Sprintf("%d-%s", i+1, s), "#"+s)
	}
	checkHeader(t, b, c, sp)
	checkTimeline(t, b, c, sp)
	checkDoses(t, b, c, sp)
	checkDossier(t, b, c, sp)
	checkPump(t, b, c, sp)
	checkLettersAndIssues(t, b, c, sp)
	checkTabletPortrait(t, b)
	checkOtherPatientsDropped(t, b)
	axeAudit(t, b, axeSource, "pathway view")
	checkKeyboard(t, b)

	if err := b.Do(20*time.Second, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatal(err)
	}
	shoot("0-landing", "body")
	axeAudit(t, b, axeSource, "landing page")
	axeCanary(t, b, axeSource)

	var launchCtx struct{ Launch string }
	if err := json.Unmarshal(aitgw(t, g, "launch", "--patient", patientID, "--fhir-user", user), &launchCtx); err != nil || launchCtx.Launch == "" {
		t.Fatalf("aitgw launch gave no launch value")
	}
	ehr := launchView(t, b, origin+"/app/launch.html?iss="+url.QueryEscape(g.BaseURL)+"&launch="+url.QueryEscape(launchCtx.Launch), patientID, nil)
	if ehr["picker"] || !ehr["consent"] {
		t.Errorf("an EHR launch went through %v: want the consent without the picker", ehr)
	}
	checkHeader(t, b, c, sp)

	if os.Getenv("AITGW_UPDATE_SCREENSHOTS") != "" {
		root, err := ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		doc := filepath.Join(root, "server", "web", "doc")
		os.MkdirAll(doc, 0o755)
		for name, png := range shots {
			if err := os.WriteFile(filepath.Join(doc, name+".png"), png, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
}

// launchView opens the launch URL and goes through whatever the authorization server
// shows (login form, patient picker or search, consent) until the app is ready; it
// returns the pages it saw.
func launchView(t *testing.T, b *Browser, launchURL, patientID string, shoot func(name, sel string)) map[string]bool {
	t.Helper()
	if err := b.Do(20*time.Second, chromedp.Navigate(launchURL)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var state string
		if err := b.Eval(5*time.Second, stateJS, &state); err != nil {
			time.Sleep(200 * time.Millisecond) // navigating
			continue
		}
		if state != "wait" && !seen[state] && shoot != nil && state != "ready" {
			shoot("launch-"+state, "body")
		}
		if state != "wait" {
			seen[state] = true
		}
		var action string
		switch state {
		case "ready":
			return seen
		case "error":
			var text string
			b.Eval(5*time.Second, `document.querySelector("main").innerText`, &text)
			t.Fatalf("the app failed to start: %s", text)
		case "login":
			action = `(() => { const f = document.querySelector("input[type=password]").form;
				const u = f.querySelector("input[name=username], input[name=user], input[name=login], input[type=email], input[type=text]");
				u.value = "dr.algo"; f.querySelector("input[type=password]").value = ` + jsString("correct horse battery staple") + `;
				f.requestSubmit(); return true; })()`
		case "picker":
			action = `(() => { const r = [...document.querySelectorAll("input[name=patient]")].find((x) => x.value === ` + jsString(patientID) + `);
				if (!r) return false; r.click(); r.form.requestSubmit(); return true; })()`
		case "search":
			action = `(() => { const s = document.querySelector("input[type=search], input[name=q], input[name=search]");
				s.value = "Synthetique"; s.form.requestSubmit(); return true; })()`
		case "consent":
			action = `(() => { document.querySelector("button[value=approve]").click(); return true; })()`
		}
		if action != "" {
			var before, now float64
			b.Eval(5*time.Second, `performance.timeOrigin`, &before)
			var done bool
			err := b.Eval(5*time.Second, action, &done)
			switch {
			case err != nil:
				t.Logf("%s page: %v", state, err)
			case !done:
				t.Fatalf("the %s page does not offer patient %s", state, patientID)
			}
			// wait for the next document, so that a form is never submitted twice
			for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
				if b.Eval(2*time.Second, `performance.timeOrigin`, &now) == nil && now != before {
					break
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	var text string
	b.Eval(5*time.Second, `document.body.innerText`, &text)
	t.Fatalf("the launch did not reach the app within 60 s (saw %v); the page says: %.500s", seen, text)
	return nil
}

// stateJS names the page the browser shows.
const stateJS = `(() => {
	const main = document.querySelector("main[data-state]");
	if (main && main.dataset.state === "ready") return "ready";
	if (main && main.dataset.state === "error") return "error";
	if (document.querySelector("input[type=password]")) return "login";
	if (document.querySelector("input[name=patient]")) return "picker";
	if (document.querySelector("button[value=approve]")) return "consent";
	if (document.querySelector("input[type=search], input[name=q], input[name=search]")) return "search";
	return "wait";
})()`

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// checkPKCE: the authorization request carried an S256 challenge, and the token
// request the verifier that hashes to it.
func checkPKCE(t *testing.T, b *Browser) {
	t.Helper()
	var challenge string
	for _, r := range b.Sent("/auth/authorize") {
		if u, err := url.Parse(r.URL); err == nil && u.Query().Get("code_challenge") != "" {
			if m := u.Query().Get("code_challenge_method"); m != "S256" {
				t.Errorf("code_challenge_method %q, want S256", m)
			}
			challenge = u.Query().Get("code_challenge")
		}
	}
	var verifier string
	for _, r := range b.Sent("/auth/token") {
		if q, err := url.ParseQuery(r.Body); err == nil && q.Get("code_verifier") != "" {
			verifier = q.Get("code_verifier")
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	if challenge == "" || verifier == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
		t.Errorf("PKCE: challenge %q, verifier %q do not match", challenge, verifier)
	}
}

// sameDose compares doses computed in JavaScript and in Go.
func sameDose(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// checkDoses: the dose table and each chart's points are the daily doses
// mapping.PrescribedDoses reads from the stored prescriptions, and each chart draws
// its molecule's limits from the rules table.
func checkDoses(t *testing.T, b *Browser, c *Client, sp samplePathway) {
	t.Helper()
	type point struct {
		Date, Molecule, Unit, Source string
		Dose                         float64
	}
	var want []point
	for _, raw := range viewSearch(t, c, "MedicationRequest?patient="+sp.Dossier.Patient+"&_count=100") {
		if !mapping.IsIntrathecalPrescription(raw) {
			continue
		}
		var mr struct{ ID string }
		json.Unmarshal(raw, &mr)
		for mol, dc := range mapping.PrescribedDoses(raw, nil) {
			lim, _ := rules.LimitFor(mol)
			want = append(want, point{Date: dc.At.UTC().Format("2006-01-02"), Molecule: mol, Unit: lim.DoseUnit, Source: "MedicationRequest/" + mr.ID, Dose: dc.PerDay})
		}
	}
	var got struct {
		Rows   []point
		Charts []struct {
			Molecule string
			Datasets []struct {
				Label  string
				Points [][2]float64
			}
		}
	}
	if err := b.Eval(10*time.Second, `({
		rows: [...document.querySelectorAll("#dose-table tbody tr")].map((tr) => ({Date: tr.dataset.date, Molecule: tr.dataset.molecule, Unit: tr.dataset.unit, Source: tr.dataset.source, Dose: Number(tr.dataset.dose)})),
		charts: [...document.querySelectorAll("#doses canvas")].map((cv) => ({molecule: cv.dataset.molecule,
			datasets: Chart.getChart(cv).data.datasets.map((d) => ({label: d.label, points: d.data.map((p) => [p.x, p.y])}))})),
	})`, &got); err != nil {
		t.Fatal(err)
	}
	if len(want) < 6 || len(got.Rows) != len(want) {
		t.Fatalf("dose table: %d rows %v, want the %d doses of the prescriptions %v", len(got.Rows), got.Rows, len(want), want)
	}
	for _, w := range want {
		found := false
		for _, g := range got.Rows {
			found = found || (g.Date == w.Date && g.Molecule == w.Molecule && g.Unit == w.Unit && g.Source == w.Source && sameDose(g.Dose, w.Dose))
		}
		if !found {
			t.Errorf("dose table lacks %+v (has %+v)", w, got.Rows)
		}
	}
	for _, ch := range got.Charts {
		var rows []point
		for _, r := range got.Rows {
			if r.Molecule == ch.Molecule {
				rows = append(rows, r)
			}
		}
		if len(ch.Datasets) == 0 || len(ch.Datasets[0].Points) != len(rows) {
			t.Errorf("chart %s: %v, want the %d table rows", ch.Molecule, ch.Datasets, len(rows))
			continue
		}
		for i, p := range ch.Datasets[0].Points {
			day := time.UnixMilli(int64(p[0])).UTC().Format("2006-01-02")
			if day != rows[i].Date || !sameDose(p[1], rows[i].Dose) {
				t.Errorf("chart %s point %d: %s %g, want %s %g", ch.Molecule, i, day, p[1], rows[i].Date, rows[i].Dose)
			}
		}
		lim, _ := rules.LimitFor(ch.Molecule)
		for _, bound := range []float64{lim.DoseMax, lim.DoseMin} {
			if bound == 0 {
				continue
			}
			drawn := false
			for _, d := range ch.Datasets[1:] {
				drawn = drawn || (len(d.Points) > 0 && sameDose(d.Points[0][1], bound))
			}
			if !drawn {
				t.Errorf("chart %s does not draw the referential's limit %g %s (%s)", ch.Molecule, bound, lim.DoseUnit, lim.Section)
			}
		}
	}
	if len(got.Charts) != 3 {
		t.Errorf("%d charts, want one per molecule (morphine, ziconotide, ropivacaine)", len(got.Charts))
	}
}

// checkKeyboard: Tab reaches the skip link, then the sections' links; Enter follows.
func checkKeyboard(t *testing.T, b *Browser) {
	t.Helper()
	if err := b.Eval(5*time.Second, `(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); return true; })()`, nil); err != nil {
		t.Fatal(err)
	}
	var focus []string
	for i := 0; i < 3; i++ {
		if err := b.Do(5*time.Second, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		var h string
		b.Eval(5*time.Second, `document.activeElement.getAttribute("href") || document.activeElement.tagName`, &h)
		focus = append(focus, h)
	}
	if strings.Join(focus, " ") != "#contenu #patient #parcours" {
		t.Errorf("Tab went through %v, want the skip link then the sections", focus)
	}
	if err := b.Do(5*time.Second, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	var hash string
	b.Eval(5*time.Second, `location.hash`, &hash)
	if hash != "#parcours" {
		t.Errorf("Enter on the timeline link: location %q", hash)
	}
}

// checkOtherPatientsDropped: the view's own guard keeps only the resources of the
// token's patient (a search by patient should return no other; if one ever did, it
// is not shown).
func checkOtherPatientsDropped(t *testing.T, b *Browser) {
	t.Helper()
	var got struct {
		Kept    []string
		Dropped int
	}
	if err := b.Eval(5*time.Second, `import("./js/fhir.js").then((m) => {
		const r = m.samePatient([
			{resourceType: "CarePlan", id: "a", subject: {reference: "Patient/p1"}},
			{resourceType: "CarePlan", id: "b", subject: {reference: "Patient/p2"}},
			{resourceType: "Device", id: "c", patient: {reference: "http://other.example/fhir/Patient/p1"}},
			{resourceType: "Task", id: "d", for: {reference: "Patient/p1"}},
			{resourceType: "Communication", id: "e"}], "p1");
		return {kept: r.kept.map((x) => x.id), dropped: r.dropped};
	})`, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Kept, ",") != "a,d" || got.Dropped != 3 {
		t.Errorf("samePatient kept %v and dropped %d, want a,d and 3", got.Kept, got.Dropped)
	}
}

// checkTabletPortrait: on a tablet held upright (768 × 1024, touch) no screen is
// wider than the display, so nothing needs scrolling sideways.
func checkTabletPortrait(t *testing.T, b *Browser) {
	t.Helper()
	if err := b.Do(10*time.Second, chromedp.EmulateViewport(768, 1024, chromedp.EmulatePortrait, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	defer b.Do(10*time.Second, chromedp.EmulateViewport(1024, 1366))
	var wide []string
	if err := b.Eval(10*time.Second, `new Promise((ok) => setTimeout(ok, 300)).then(() =>
		[document.documentElement, ...document.querySelectorAll("main section")]
			.filter((e) => e.scrollWidth > Math.max(window.innerWidth, e.clientWidth) + 1)
			.map((e) => (e.id || e.tagName) + " " + e.scrollWidth + ">" + window.innerWidth))`, &wide); err != nil {
		t.Fatal(err)
	}
	if len(wide) > 0 {
		t.Errorf("on a 768 px wide tablet these scroll sideways: %v", wide)
	}
}
