package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// tokenFor mints a token for g with the given scopes and patient context, as
// "aitgw token" does for an operator checking what an app would reach.
func tokenFor(t *testing.T, g *Gateway, scope, patient string) string {
	t.Helper()
	args := []string{"token", "--data", g.DataDir, "--base-url", g.BaseURL, "--scope", scope}
	if patient != "" {
		args = append(args, "--patient", patient)
	}
	out, err := exec.Command(binary, args...).Output()
	if err != nil {
		t.Fatalf("aitgw token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// world is two patients, each with an Observation and a CarePlan, and a shared
// Practitioner (reference data, outside the patient compartment).
type world struct {
	pa, pb, obsA, obsB, planA, planB, doc string
}

func seedWorld(t *testing.T, c *Client) world {
	t.Helper()
	put := func(path, body string) {
		r, err := c.Do(http.MethodPut, path, []byte(body), nil)
		if err != nil || r.Status >= 300 {
			t.Fatalf("seed %s: %v %s", path, err, r)
		}
	}
	put("Practitioner/doc", `{"resourceType":"Practitioner","id":"doc","name":[{"family":"Algo"}]}`)
	put("Patient/pa", `{"resourceType":"Patient","id":"pa","name":[{"family":"Alpha"}],"generalPractitioner":[{"reference":"Practitioner/doc"}]}`)
	put("Patient/pb", `{"resourceType":"Patient","id":"pb","name":[{"family":"Beta"}]}`)
	put("Observation/oa", `{"resourceType":"Observation","id":"oa","status":"final","code":{"text":"pain"},"subject":{"reference":"Patient/pa"},"performer":[{"reference":"Practitioner/doc"}]}`)
	put("Observation/ob", `{"resourceType":"Observation","id":"ob","status":"final","code":{"text":"pain"},"subject":{"reference":"Patient/pb"}}`)
	put("CarePlan/cpa", `{"resourceType":"CarePlan","id":"cpa","status":"active","intent":"plan","subject":{"reference":"Patient/pa"}}`)
	put("CarePlan/cpb", `{"resourceType":"CarePlan","id":"cpb","status":"active","intent":"plan","subject":{"reference":"Patient/pb"}}`)
	return world{"pa", "pb", "oa", "ob", "cpa", "cpb", "doc"}
}

// bundleIDs lists "Type/id" of a Bundle's entries, sorted.
func bundleIDs(t *testing.T, r *Response) []string {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("not a Bundle: %s", r)
	}
	var out []string
	for _, e := range b.Entry {
		if e.Resource.ResourceType != "" && e.Resource.ResourceType != "OperationOutcome" {
			out = append(out, e.Resource.ResourceType+"/"+e.Resource.ID)
		}
	}
	sort.Strings(out)
	return out
}

// TestPatientTokenStaysInItsCompartment is the attack catalogue of issue #6 against
// the real gateway: a token for patient pa tries to reach patient pb by every path.
// Each attempt is refused (401/403 with an OperationOutcome) or answers nothing of pb.
func TestPatientTokenStaysInItsCompartment(t *testing.T) {
	g := startGateway(t)
	w := seedWorld(t, g.Client())
	a := NewClient(g.BaseURL)
	a.Token = tokenFor(t, g, "patient/*.rs", w.pa)

	refused := []struct{ name, method, path, body string }{
		{"read other patient", "GET", "Patient/pb", ""},
		{"read other patient's observation", "GET", "Observation/ob", ""},
		{"vread other patient's observation", "GET", "Observation/ob/_history/1", ""},
		{"history of other patient's observation", "GET", "Observation/ob/_history", ""},
		{"$everything-style operation on other patient", "GET", "Patient/pb/$everything", ""},
		{"write with a read scope", "POST", "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/pa"}}`},
		{"delete with a read scope", "DELETE", "Observation/oa", ""},
		{"transaction reading the other patient", "POST", "", `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Patient/pb"}}]}`},
		{"audit trail without the audit scope", "GET", "AuditEvent", ""},
		{"dead letters of every patient", "GET", "$ait-dead-letters", ""},
		{"a subscription's event log", "GET", "Subscription/any/$events", ""},
	}
	for _, c := range refused {
		r, err := a.Do(c.method, c.path, []byte(c.body), nil)
		if c.body == "" {
			r, err = a.Do(c.method, c.path, nil, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusForbidden && r.Status != http.StatusUnauthorized {
			t.Errorf("%s: %s %s answered %d, want 401/403: %s", c.name, c.method, c.path, r.Status, r)
			continue
		}
		if !strings.Contains(string(r.Body), `"resourceType":"OperationOutcome"`) {
			t.Errorf("%s: refusal without an OperationOutcome: %s", c.name, r)
		}
	}

	confined := []struct {
		name, path string
		want       []string
	}{
		{"search all observations", "Observation", []string{"Observation/oa"}},
		{"search by the other patient", "Observation?subject=Patient/pb", nil},
		{"search by _id", "Patient?_id=pb", nil},
		{"chain into the other patient", "Observation?subject:Patient.name=Beta", nil},
		{"_include of subject", "Observation?_include=Observation:subject", []string{"Observation/oa", "Patient/pa"}},
		{"_include of reference data", "Observation?_include=Observation:performer", []string{"Observation/oa", "Practitioner/doc"}},
		{"_revinclude", "Patient?_revinclude=CarePlan:subject", []string{"CarePlan/cpa", "Patient/pa"}},
		{"type history", "Observation/_history", []string{"Observation/oa"}},
		{"care plans", "CarePlan", []string{"CarePlan/cpa"}},
	}
	for _, c := range confined {
		r, err := a.Do("GET", c.path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusOK {
			t.Errorf("%s: %d %s", c.name, r.Status, r)
			continue
		}
		if got := bundleIDs(t, r); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: GET %s gave %v, want %v", c.name, c.path, got, c.want)
		}
	}

	// own data stays reachable
	for _, p := range []string{"Patient/pa", "Observation/oa", "CarePlan/cpa", "Practitioner/doc"} {
		if r, _ := a.Do("GET", p, nil, nil); r.Status != http.StatusOK {
			t.Errorf("own %s: %d %s", p, r.Status, r)
		}
	}

	// a writing patient token cannot write into the other compartment: 403, nothing
	// written, and the whole transaction rolls back
	wr := NewClient(g.BaseURL)
	wr.Token = tokenFor(t, g, "patient/*.cruds", w.pa)
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"mine"},"subject":{"reference":"Patient/pa"}},"request":{"method":"POST","url":"Observation"}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"theirs"},"subject":{"reference":"Patient/pb"}},"request":{"method":"POST","url":"Observation"}}]}`
	r, _ := wr.Do("POST", "", []byte(tx), nil)
	if r.Status != http.StatusForbidden {
		t.Errorf("transaction writing into pb: %d %s", r.Status, r)
	}
	r, _ = wr.Do("PUT", "Observation/ob", []byte(`{"resourceType":"Observation","id":"ob","status":"final","code":{"text":"moved"},"subject":{"reference":"Patient/pa"}}`), nil)
	if r.Status != http.StatusForbidden {
		t.Errorf("overwriting pb's observation into pa's compartment: %d %s", r.Status, r)
	}
	op := g.Client()
	r, _ = op.Do("GET", "Observation?_summary=count", nil, nil)
	if !strings.Contains(string(r.Body), `"total":2`) {
		t.Errorf("a refused write left something behind: %s", r)
	}
	if r, _ = wr.Do("POST", "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"mine"},"subject":{"reference":"Patient/pa"}}`), nil); r.Status != http.StatusCreated {
		t.Errorf("own write: %d %s", r.Status, r)
	}
}

// TestAuditTrail checks that accesses are recorded as AuditEvents that an
// administrator scope can search, refusals included.
func TestAuditTrail(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	if r, _ := c.Do("GET", "Patient/nobody", nil, nil); r.Status != http.StatusNotFound {
		t.Fatalf("read: %d", r.Status)
	}
	NewClient(g.BaseURL).Do("GET", "Patient", nil, nil) // no token: 401, audited too
	admin := NewClient(g.BaseURL)
	admin.Token = tokenFor(t, g, "system/AuditEvent.rs", "")
	var r *Response
	for i := 0; i < 50; i++ { // the audit log writes in batches every 100 ms
		r, _ = admin.Do("GET", "AuditEvent?_count=100", nil, nil)
		if strings.Count(string(r.Body), `"resourceType":"AuditEvent"`) >= 2 {
			break
		}
		exec.Command("sleep", "0.1").Run()
	}
	body := string(r.Body)
	if r.Status != http.StatusOK || strings.Count(body, `"resourceType":"AuditEvent"`) < 2 {
		t.Fatalf("audit events: %d %s", r.Status, r)
	}
	for _, want := range []string{`"code":"4"`, "aitgw-operator"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit trail lacks %s", want)
		}
	}
	// searched as an auditor does: about whom, how it ended, when
	today := time.Now().UTC().Format("2006-01-02")
	count := func(c *Client, query string) int {
		r, _ := c.Do("GET", "AuditEvent?"+query+"&_summary=count", nil, nil)
		var b struct{ Total int }
		if r == nil || r.Status != http.StatusOK || json.Unmarshal(r.Body, &b) != nil {
			t.Fatalf("AuditEvent?%s: %v", query, r)
		}
		return b.Total
	}
	if n := count(admin, "patient=Patient/nobody&action=R&outcome=4"); n != 1 {
		t.Errorf("the refused read of Patient/nobody: %d events, want 1", n)
	}
	if n := count(admin, "outcome=4&date=ge"+today); n < 2 {
		t.Errorf("refusals today: %d events, want at least 2", n)
	}
	if n := count(admin, "agent:identifier=|aitgw-operator&subtype=read"); n < 1 {
		t.Errorf("reads by the operator: %d events", n)
	}
	// the trail is append-only, whatever the scope says
	writer := NewClient(g.BaseURL)
	writer.Token = tokenFor(t, g, "system/AuditEvent.cruds system/AuditEvent.rs", "")
	if r, _ := writer.Do("POST", "AuditEvent", []byte(`{"resourceType":"AuditEvent"}`), nil); r == nil || r.Status < 400 || r.Status >= 500 {
		t.Errorf("an AuditEvent written by a client: %v", r)
	}
	// and the CapabilityStatement says so
	if r, _ := NewClient(g.BaseURL).Do("GET", "metadata", nil, nil); r == nil || !auditReadOnly(r.Body) {
		t.Errorf("the CapabilityStatement offers to write AuditEvent: %v", r)
	}
	// and it survives a restart
	before := count(admin, "outcome=4")
	g.Stop()
	g2, err := Start(context.Background(), binary, g.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Stop()
	admin2 := NewClient(g2.BaseURL)
	admin2.Token = tokenFor(t, g2, "system/AuditEvent.rs", "")
	if after := count(admin2, "outcome=4"); after < before {
		t.Errorf("refusals after a restart: %d, were %d", after, before)
	}
}

// TestNoPatientDataInLogs: a patient written, searched by name and identifier, read,
// refused and mistyped leaves nothing of its data in the gateway's log.
func TestNoPatientDataInLogs(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	secrets := []string{"Zorglubette", "2840575123456", "1975-03-14"}
	r, err := c.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"2840575123456"}],"name":[{"family":"Zorglubette"}],"birthDate":"1975-03-14"}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create: %v %s", err, r)
	}
	for _, p := range []string{"Patient?name=Zorglubette", "Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|2840575123456",
		"Patient?birthdate=1975-03-14", "Patient/" + IDFromLocation(r.Header.Get("Location")), "Patient?name=Zorglubette&birthdate=notadate"} {
		c.Do(http.MethodGet, p, nil, nil)
	}
	NewClient(g.BaseURL).Do(http.MethodGet, "Patient?name=Zorglubette", nil, nil) // refused: no token
	c.Do(http.MethodPut, "Patient/x", []byte(`{"resourceType":"Patient","id":"y","name":[{"family":"Zorglubette"}]}`), nil)
	logs := g.Logs()
	if !strings.Contains(logs, "op=search-type") {
		t.Fatalf("the log does not show the requests at all:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("patient data %q in the log:\n%s", s, logs)
		}
	}
}

// auditReadOnly reports whether a CapabilityStatement lists AuditEvent with read and
// search interactions only.
func auditReadOnly(cs []byte) bool {
	var doc struct {
		Rest []struct {
			Resource []struct {
				Type        string
				Interaction []struct{ Code string }
			}
		}
	}
	if json.Unmarshal(cs, &doc) != nil || len(doc.Rest) == 0 {
		return false
	}
	for _, r := range doc.Rest[0].Resource {
		if r.Type != "AuditEvent" {
			continue
		}
		codes := map[string]bool{}
		for _, i := range r.Interaction {
			codes[i.Code] = true
		}
		return codes["read"] && codes["search-type"] && !codes["create"] && !codes["update"] && !codes["delete"] && !codes["patch"]
	}
	return false
}
