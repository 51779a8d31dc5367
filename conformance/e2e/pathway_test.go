package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
)

// httpPoster posts the kit's resources to the gateway as an EHR would.
type httpPoster struct{ c *Client }

func (p httpPoster) Create(body []byte) (string, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return "", err
	}
	r, err := p.c.Do(http.MethodPost, head.ResourceType, body, nil)
	if err != nil {
		return "", err
	}
	if r.Status != http.StatusCreated {
		return "", fmt.Errorf("POST %s: %s", head.ResourceType, r)
	}
	return head.ResourceType + "/" + IDFromLocation(r.Header.Get("Location")), nil
}

// postReferral posts the FR Core referral fixture to $ait-referral and returns the
// dossier the steps refer to and the pathway CarePlan's id.
func postReferral(t *testing.T, c *Client) (kit.Dossier, string) {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(root, "mapping", "testdata", "referral-frcore.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Do(http.MethodPost, "$ait-referral", body, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("$ait-referral: %v %s", err, r)
	}
	one := func(typ string) map[string]any {
		r, err := c.Do(http.MethodGet, typ, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entry []struct{ Resource map[string]any } `json:"entry"`
		}
		json.Unmarshal(r.Body, &b)
		if len(b.Entry) != 1 {
			t.Fatalf("after the referral: %d %s", len(b.Entry), typ)
		}
		return b.Entry[0].Resource
	}
	p, sr, cp := one("Patient"), one("ServiceRequest"), one("CarePlan")
	gp := p["generalPractitioner"].([]any)[0].(map[string]any)["reference"].(string)
	req := sr["requester"].(map[string]any)["reference"].(string)
	return kit.Dossier{Patient: "Patient/" + p["id"].(string), Referral: "ServiceRequest/" + sr["id"].(string), GP: gp, Requester: req}, cp["id"].(string)
}

// communications lists the stored Communications as "milestone>recipient" keyed by
// id.
func communications(t *testing.T, c *Client) map[string]string {
	t.Helper()
	r, err := c.Do(http.MethodGet, "Communication?_count=1000", nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("Communication search: %v %s", err, r)
	}
	var b struct {
		Entry []struct {
			Resource struct {
				ID       string `json:"id"`
				Category []struct {
					Coding []struct{ Code string } `json:"coding"`
				} `json:"category"`
				Recipient []struct{ Reference string } `json:"recipient"`
				Payload   []struct {
					ContentString string `json:"contentString"`
				} `json:"payload"`
			} `json:"resource"`
		} `json:"entry"`
	}
	json.Unmarshal(r.Body, &b)
	out := map[string]string{}
	for _, e := range b.Entry {
		res := e.Resource
		if len(res.Category) == 0 || len(res.Category[0].Coding) == 0 || len(res.Recipient) == 0 {
			t.Errorf("Communication %s without category or recipient", res.ID)
			continue
		}
		if len(res.Payload) == 0 || !strings.Contains(res.Payload[0].ContentString, "Cher(e)") {
			t.Errorf("Communication %s carries no letter a GP can read", res.ID)
		}
		out[res.ID] = res.Category[0].Coding[0].Code + ">" + res.Recipient[0].Reference
	}
	return out
}

// TestAITPathwayOverHTTP posts a referral and every step of the AIT pathway to the
// third refill over HTTP, as an EHR would (000 §III), and checks after every step
// the CarePlan's activities and the Communications written to each recipient of the
// milestone ("Who is told what"), one by one.
func TestAITPathwayOverHTTP(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	d, careplan := postReferral(t, c)
	seen := communications(t, c)
	for _, want := range []string{"referral-received>" + d.Requester, "planned-ait-care>" + d.GP} {
		if !containsValue(seen, want) {
			t.Errorf("after the referral: no Communication %s in %v", want, seen)
		}
	}
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range kit.AITSteps(d, cast) {
		if _, err := (httpPoster{c}).Create(s.Body); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		r, _ := c.Do(http.MethodGet, "CarePlan/"+careplan, nil, nil)
		if got := kit.Statuses(r.Body); got != s.Want {
			t.Errorf("%s: CarePlan %s, want %s", s.Name, got, s.Want)
		}
		now := communications(t, c)
		fresh := map[string]bool{}
		for id, v := range now {
			if _, old := seen[id]; !old {
				fresh[v] = true
			}
		}
		for _, want := range toldPairs(s.Told) {
			if !fresh[want] {
				t.Errorf("%s: no new Communication %s (new: %v)", s.Name, want, fresh)
			}
		}
		seen = now
	}
}

// toldPairs turns a kit Told string into "milestone>recipient" pairs.
func toldPairs(told string) []string {
	var out []string
	for _, n := range strings.Split(told, ";") {
		code, to, ok := strings.Cut(n, ">")
		if !ok {
			continue
		}
		for _, r := range strings.Split(to, "|") {
			_, ref, _ := strings.Cut(r, "=")
			out = append(out, code+">"+ref)
		}
	}
	return out
}

func containsValue(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// TestOutOfOrderStepRefused: an implantation right after the referral is refused
// with 422 naming the seed section (000 §VI), and nothing of it is stored.
func TestOutOfOrderStepRefused(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	d, careplan := postReferral(t, c)
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range kit.AITSteps(d, cast) {
		if s.Name != "implantation" {
			continue
		}
		r, _ := c.Do(http.MethodPost, "Procedure", s.Body, nil)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "000 §VI") {
			t.Errorf("implantation before the RCP: %s", r)
		}
	}
	if r, _ := c.Do(http.MethodGet, "Procedure?_summary=count", nil, nil); !strings.Contains(string(r.Body), `"total":0`) {
		t.Errorf("a refused step was stored: %s", r)
	}
	if r, _ := c.Do(http.MethodGet, "CarePlan/"+careplan, nil, nil); r.Header.Get("ETag") != `W/"1"` {
		t.Errorf("the CarePlan moved on a refused step: %s", r.Header.Get("ETag"))
	}
}
