package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The seams of Bulk Data $export (server/bulk) with tokens, CORS, the audit trail and
// the Subscription secrets, against the real binary: each test is named after what
// the seam let through.

// auditQueries returns the paths (with query) recorded in the audit trail's query
// entities, read with an AuditEvent scope.
func auditQueries(t *testing.T, g *Gateway) []string {
	t.Helper()
	c := NewClientWith(g.BaseURL, tokenFor(t, g, "system/AuditEvent.rs", ""))
	r := mustDo(t, c, http.MethodGet, "AuditEvent?_count=200", nil, nil, http.StatusOK)
	var b struct {
		Entry []struct {
			Resource struct {
				Entity []struct {
					Query []byte `json:"query"`
				} `json:"entity"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("AuditEvent search: %v %s", err, r)
	}
	var out []string
	for _, e := range b.Entry {
		for _, en := range e.Resource.Entity {
			if len(en.Query) > 0 {
				out = append(out, string(en.Query))
			}
		}
	}
	return out
}

// TestExportFilesReadWithAPatientToken: polls and downloads checked only the client
// id, so a patient-context or user/ token of the client that started a system
// export read every patient's NDJSON.
func TestExportFilesReadWithAPatientToken(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	sys := g.Client()
	r := mustDo(t, sys, http.MethodGet, "$export", nil, map[string]string{"Prefer": "respond-async"}, http.StatusAccepted)
	status := r.Header.Get("Content-Location")
	m := pollManifest(t, sys, status)
	var file string
	for _, o := range m["output"].([]any) {
		if o := o.(map[string]any); o["type"] == "Patient" {
			file = o["url"].(string)
		}
	}
	if file == "" {
		t.Fatalf("no Patient file in %v", m)
	}
	ndjson := map[string]string{"Accept": "application/fhir+ndjson"}
	for name, tok := range map[string]string{
		"patient/ token of pa":   tokenFor(t, g, "patient/*.rs", w.pa),
		"user/ token of doc":     userToken(t, g, "user/*.rs", "Practitioner/doc"),
		"another client's token": registerBackend(t, g, "system/*.rs").token(t, "system/*.rs"),
	} {
		c := NewClientWith(g.BaseURL, tok)
		for _, u := range []string{status, file} {
			r := mustDo(t, c, http.MethodGet, u, nil, ndjson, http.StatusForbidden)
			if strings.Contains(string(r.Body), `"Patient"`) || !strings.Contains(string(r.Body), "OperationOutcome") {
				t.Errorf("%s, GET %s: %s", name, u, r)
			}
		}
		mustDo(t, c, http.MethodDelete, status, nil, nil, http.StatusForbidden)
	}
	mustDo(t, NewClient(g.BaseURL), http.MethodGet, file, nil, ndjson, http.StatusUnauthorized)
	r = mustDo(t, sys, http.MethodGet, file, nil, ndjson, http.StatusOK)
	if !strings.Contains(string(r.Body), `"id":"pb"`) || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the starting client's download: %v %s", r.Header, r)
	}
}

// TestBulkStatusAndFilesRefuseCORS: CORS covered the FHIR base but not /bulk/, where
// a $export kick-off's Content-Location points: a browser app allowed on the base
// could start an export and never poll it (its preflight got a 401).
func TestBulkStatusAndFilesRefuseCORS(t *testing.T) {
	const allowed, refused = "https://app.example", "https://evil.example"
	g, err := Start(context.Background(), binary, t.TempDir(), "--cors-origin", allowed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	sys := g.Client()
	r := mustDo(t, sys, http.MethodGet, "$export?_type=Patient", nil, map[string]string{"Prefer": "respond-async", "Origin": allowed}, http.StatusAccepted)
	status := r.Header.Get("Content-Location")
	pollManifest(t, sys, status)
	preflight := func(origin, u string) *Response {
		t.Helper()
		c := NewClient(g.BaseURL)
		r, err := c.Do(http.MethodOptions, u, nil, map[string]string{"Origin": origin,
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, u := range []string{g.BaseURL + "/Patient", status, status + "/Patient.ndjson"} {
		if r := preflight(allowed, u); r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != allowed {
			t.Errorf("preflight from %s to %s: %d %v", allowed, u, r.Status, r.Header)
		}
		if r := preflight(refused, u); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s to %s allowed: %v", refused, u, r.Header)
		}
	}
	r = mustDo(t, sys, http.MethodGet, status, nil, map[string]string{"Origin": allowed}, http.StatusOK)
	if r.Header.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("poll from %s: no Access-Control-Allow-Origin: %v", allowed, r.Header)
	}
	if r := mustDo(t, sys, http.MethodGet, status, nil, map[string]string{"Origin": refused}, http.StatusOK); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("poll from %s allowed: %v", refused, r.Header)
	}
	// a poller reads X-Progress and Retry-After, which are not CORS-safelisted
	exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"x-progress", "retry-after", "content-location"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s is not exposed to browser apps: %q", h, exposed)
		}
	}
}

// TestExportPatientParameterInQueryIgnored: the patient parameter was read from a POST
// Parameters body only; asked in the query (GET ...$export?patient=Patient/pa) it was
// dropped silently and the hub received every patient for the one it asked.
func TestExportPatientParameterInQueryIgnored(t *testing.T) {
	g := startGateway(t)
	hubWorld(t, g)
	sys := g.Client()
	async := map[string]string{"Prefer": "respond-async"}
	if r := mustDo(t, sys, http.MethodGet, "$export?patient=Patient/pa", nil, async, http.StatusBadRequest); !strings.Contains(string(r.Body), `"expression":["patient"]`) {
		t.Errorf("system-level export with a patient: %s", r)
	}
	m := exportRun(t, sys, "Patient/$export?_type=Patient,Observation&patient=Patient/pa")
	ndjson := map[string]string{"Accept": "application/fhir+ndjson"}
	for _, o := range m["output"].([]any) {
		r := mustDo(t, sys, http.MethodGet, o.(map[string]any)["url"].(string), nil, ndjson, http.StatusOK)
		if strings.Contains(string(r.Body), `"pb"`) || strings.Contains(string(r.Body), "Patient/pb") {
			t.Errorf("the export for Patient/pa holds pb: %s", r.Body)
		}
	}
	if len(m["output"].([]any)) != 2 {
		t.Errorf("manifest: %v", m["output"])
	}
}

// TestExportDownloadWithNarrowerToken: a download checked only that the token came
// from the client that started the export, so a token of that client whose scopes
// grant Observation alone downloaded the Patient file.
func TestExportDownloadWithNarrowerToken(t *testing.T) {
	g := startGateway(t)
	hubWorld(t, g)
	hub := registerBackend(t, g, "system/*.rs")
	wide := NewClientWith(g.BaseURL, hub.token(t, "system/*.rs"))
	m := exportRun(t, wide, "$export?_type=Patient,Observation")
	narrow := NewClientWith(g.BaseURL, hub.token(t, "system/Observation.rs"))
	ndjson := map[string]string{"Accept": "application/fhir+ndjson"}
	for _, o := range m["output"].([]any) {
		o := o.(map[string]any)
		want := map[any]int{"Patient": http.StatusForbidden, "Observation": http.StatusOK}[o["type"]]
		r := mustDo(t, narrow, http.MethodGet, o["url"].(string), nil, ndjson, want)
		if want == http.StatusForbidden && strings.Contains(string(r.Body), `"resourceType":"Patient"`) {
			t.Errorf("the narrower token read %s", r.Body)
		}
		mustDo(t, wide, http.MethodGet, o["url"].(string), nil, ndjson, http.StatusOK)
	}
}

// TestExportLeaksReceiverSecrets: a Subscription's channel.header (the receiver's
// credentials) is returned to its owner only, but a system $export wrote it whole
// into Subscription.ndjson for the hub.
func TestExportLeaksReceiverSecrets(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	owner := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.cruds", w.pa))
	mustDo(t, owner, http.MethodPost, "Subscription", subscriptionWithSecret("https://hooks.example.org/aitgw", "receiver-s3cret", "Communication?patient=Patient/"+w.pa), nil, http.StatusCreated)
	hub := NewClientWith(g.BaseURL, registerBackend(t, g, "system/*.rs").token(t, "system/*.rs"))
	if r := mustDo(t, hub, http.MethodGet, "Subscription", nil, nil, http.StatusOK); strings.Contains(string(r.Body), "receiver-s3cret") {
		t.Fatalf("a search shows the secret: %s", r)
	}
	m := exportRun(t, hub, "$export?_type=Subscription")
	out := m["output"].([]any)
	if len(out) != 1 {
		t.Fatalf("manifest: %v", m)
	}
	r := mustDo(t, hub, http.MethodGet, out[0].(map[string]any)["url"].(string), nil, map[string]string{"Accept": "application/fhir+ndjson"}, http.StatusOK)
	if strings.Contains(string(r.Body), "receiver-s3cret") || !strings.Contains(string(r.Body), "REDACTED") {
		t.Errorf("the export of Subscriptions: %s", r.Body)
	}
}

// TestBulkDownloadAndBackupNotAudited: the audit trail recorded requests under the
// FHIR base only, so an export's downloads and /admin/backup, which hand out every
// patient's data, left no AuditEvent.
func TestBulkDownloadAndBackupNotAudited(t *testing.T) {
	g := startGateway(t)
	hubWorld(t, g)
	sys := g.Client()
	m := exportRun(t, sys, "$export?_type=Patient")
	file := m["output"].([]any)[0].(map[string]any)["url"].(string)
	mustDo(t, sys, http.MethodGet, file, nil, map[string]string{"Accept": "application/fhir+ndjson"}, http.StatusOK)
	backup := strings.TrimSuffix(g.BaseURL, "/fhir") + "/admin/backup"
	mustDo(t, NewClientWith(g.BaseURL, tokenFor(t, g, "aitgw/backup", "")), http.MethodGet, backup, nil, nil, http.StatusOK)
	fileURLPath := file[strings.Index(file, "/bulk/"):]
	deadline := time.Now().Add(10 * time.Second)
	for {
		qs := auditQueries(t, g)
		if slices.Contains(qs, fileURLPath) && slices.Contains(qs, "/admin/backup") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no AuditEvent for %s and /admin/backup among %q", fileURLPath, qs)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestExportIgnoresScopeConstraints: the export checked the types a token may read,
// not the SMART v2 query constraints on them: a hub granted active Conditions only
// (system/Condition.rs?clinical-status=active) exported the resolved ones too.
func TestExportIgnoresScopeConstraints(t *testing.T) {
	g := startGateway(t)
	hubWorld(t, g)
	c := g.Client()
	for id, status := range map[string]string{"active1": "active", "hidden1": "resolved"} {
		body := `{"resourceType":"Condition","id":"` + id + `","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"` + status + `"}]},
		 "code":{"text":"condition ` + id + `"},"subject":{"reference":"Patient/pa"}}`
		mustDo(t, c, http.MethodPut, "Condition/"+id, []byte(body), nil, http.StatusCreated)
	}
	narrow := NewClientWith(g.BaseURL, tokenFor(t, g, "system/Condition.rs?clinical-status=active", ""))
	m := exportRun(t, narrow, "$export?_type=Condition")
	out := m["output"].([]any)
	if len(out) != 1 {
		t.Fatalf("manifest: %v", m)
	}
	r := mustDo(t, narrow, http.MethodGet, out[0].(map[string]any)["url"].(string), nil, map[string]string{"Accept": "application/fhir+ndjson"}, http.StatusOK)
	if strings.Contains(string(r.Body), `"hidden1"`) || !strings.Contains(string(r.Body), `"active1"`) {
		t.Errorf("the export under a constrained scope: %s", r.Body)
	}
}
