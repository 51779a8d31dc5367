package e2e

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/mapping"
)

// pageExample is one example block of the implementer page.
var pageExample = regexp.MustCompile(`(?s)<pre class="example" data-pathway="([^"]+)" data-fact="([^"]+)" data-resource="([^"]+)">(.*?)</pre>`)

// getPage fetches a page of the gateway outside the FHIR base.
func getPage(t *testing.T, g *Gateway, path string) string {
	t.Helper()
	origin := strings.TrimSuffix(g.BaseURL, "/fhir")
	resp, err := http.Get(origin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// TestImplementerPageExamples: the implementer page (/ig/ in English, /ig/fr/ in
// French) documents every step the gateway recognises (mapping.StepDocs: resource,
// code, extensions with their units), and every example on it, placeholders
// replaced by a real patient, referral and cast, is accepted by a running gateway in
// the page's order and advances the pathway.
func TestImplementerPageExamples(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	en, fr := getPage(t, g, "/ig/"), getPage(t, g, "/ig/fr/")
	if !strings.Contains(fr, `lang="fr"`) || !strings.Contains(fr, "Consultation d&#39;anesthésie") || !strings.Contains(en, `lang="en"`) {
		t.Errorf("the page is not in both languages")
	}
	for _, d := range mapping.StepDocs() {
		for _, page := range []string{en, fr} {
			if !strings.Contains(page, `id="`+d.Pathway+"-"+d.Fact+`"`) || !strings.Contains(page, html.EscapeString(d.Code)) {
				t.Errorf("step %s/%s (%s) not documented", d.Pathway, d.Fact, d.Code)
			}
			for _, x := range d.Extensions {
				if !strings.Contains(page, x.Key) || (x.Unit != "" && !strings.Contains(page, html.EscapeString(x.Unit))) {
					t.Errorf("step %s: extension %s %s not documented", d.Fact, x.Key, x.Unit)
				}
			}
		}
	}
	for _, want := range []string{`id="rules"`, `id="dossier"`, "http://loinc.org|777-3", "10*9/L", "Référentiel régional AIT", "ir-procedure after ir-consultation"} {
		if !strings.Contains(en, want) && !strings.Contains(en, html.EscapeString(want)) {
			t.Errorf("the rules catalogue lacks %q", want)
		}
	}
	examples := pageExample.FindAllStringSubmatch(en, -1)
	if len(examples) < 14 {
		t.Fatalf("%d examples on the page, want one per step (14)", len(examples))
	}
	// the world the placeholders stand for
	d, careplan := postReferral(t, c)
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Do(http.MethodPost, "$ait-referral", irReferral(), nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("IR request: %v %s", err, r)
	}
	var irs struct {
		Entry []struct {
			Resource struct {
				ID      string
				Subject struct{ Reference string }
			}
		}
	}
	r, _ := c.Do(http.MethodGet, "ServiceRequest?identifier="+refSys+"|IR-2026-0001", nil, nil)
	json.Unmarshal(r.Body, &irs)
	if len(irs.Entry) != 1 {
		t.Fatalf("IR request not found: %s", r)
	}
	radiologist, err := (httpPoster{c}).Create([]byte(`{"resourceType":"Practitioner","name":[{"family":"Radiologue"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	real := strings.NewReplacer(
		kit.PlaceholderAIT.Patient, d.Patient, kit.PlaceholderAIT.Referral, d.Referral,
		kit.PlaceholderIR.Patient, irs.Entry[0].Resource.Subject.Reference, kit.PlaceholderIR.Referral, "ServiceRequest/"+irs.Entry[0].Resource.ID,
		kit.PlaceholderIRRadiologist, radiologist,
		kit.PlaceholderCast.Algologist, cast.Algologist, kit.PlaceholderCast.AlgologistRole, cast.AlgologistRole,
		kit.PlaceholderCast.Anaesthetist, cast.Anaesthetist, kit.PlaceholderCast.Implanter, cast.Implanter,
		kit.PlaceholderCast.Refiller, cast.Refiller, kit.PlaceholderCast.RefillCentre, cast.RefillCentre, kit.PlaceholderCast.Nurse, cast.Nurse)
	for _, ex := range examples {
		body := real.Replace(html.UnescapeString(ex[4]))
		if strings.Contains(body, "{") && strings.Contains(body, "}\"") {
			t.Errorf("%s: a placeholder is left: %s", ex[2], body)
		}
		r, err := c.Do(http.MethodPost, ex[3], []byte(body), nil)
		if err != nil || r.Status != http.StatusCreated {
			t.Errorf("the page's %s example (%s %s): %v %s", ex[2], ex[1], ex[3], err, r)
		}
	}
	cp, _ := c.Do(http.MethodGet, "CarePlan/"+careplan, nil, nil)
	if got := kit.Statuses(cp.Body); !strings.HasPrefix(got, "C C C C C C C C") {
		t.Errorf("the AIT examples, posted in the page's order, did not carry the pathway: %s", got)
	}
}
