package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Acceptance checks of the hub's new types and paths against the real binary (the
// seams' findings are in seams_test.go): what must keep holding.

// TestHubPathsStayInThePatientCompartment is the acceptance check of the new types
// and paths with a patient-context token of pa: documents, their Binaries, issues,
// messages and compositions of pb are reached by no path (read, search, includes,
// history, chains, operations).
func TestHubPathsStayInThePatientCompartment(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	pat := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", w.pa))
	for _, path := range []string{"Binary/binb", "Binary/binb/_history", "DocumentReference/drb", "DocumentReference/drb/_history",
		"Communication/cb", "DetectedIssue/dib", "Composition/cob", "Patient/pb/$everything", "Patient/pb/$summary",
		"Binary?_id=binb", "Binary/_history", "Patient/$everything", "$export", "Patient/$export"} {
		r, err := pat.Do(http.MethodGet, path, nil, map[string]string{"Prefer": "respond-async"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), `"OperationOutcome"`) {
			t.Errorf("GET %s: %s, want 403 with an OperationOutcome", path, r)
		}
	}
	pbs := map[string]bool{"Patient/pb": true, "Binary/binb": true, "DocumentReference/drb": true, "Communication/cb": true,
		"DetectedIssue/dib": true, "Composition/cob": true, "Observation/ob": true}
	for _, path := range []string{"DocumentReference?_include=*", "Communication?_include=*", "Communication?_include:iterate=*",
		"Communication?_include=Communication:part-of&_include=Communication:based-on", "Patient?_revinclude=*",
		"Patient?_revinclude=Communication:subject&_revinclude=DocumentReference:subject", "DocumentReference/_history",
		"Communication/_history", "_history", "DocumentReference?patient.identifier=" + ins + "%7C1", "DocumentReference?subject.family=Beta",
		"Patient/pa/$everything", "Patient/pa/$everything?_count=1", "Patient?_has:DocumentReference:subject:status=current"} {
		r, err := pat.Do(http.MethodGet, path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == http.StatusForbidden {
			continue // refused outright: nothing revealed
		}
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %s", path, r)
			continue
		}
		for _, id := range bundleIDs(t, r) {
			if pbs[id] {
				t.Errorf("GET %s revealed %s", path, id)
			}
		}
	}
}

// TestHubOperationsBadInput: malformed parameters of the new operations are a 4xx
// OperationOutcome naming the parameter, never a 5xx.
func TestHubOperationsBadInput(t *testing.T) {
	g := startGateway(t)
	hubWorld(t, g)
	c := g.Client()
	async := map[string]string{"Prefer": "respond-async"}
	for _, tc := range []struct {
		path, expr string
		status     int
	}{
		{"Patient/pa/$everything?start=garbage", "start", 400},
		{"Patient/pa/$everything?end=2026-13-45", "end", 400},
		{"Patient/pa/$everything?_count=-1", "_count", 400},
		{"Patient/pa/$everything?_since=garbage", "_since", 400},
		{"Patient/pa/$everything?_type=Nope", "_type", 400},
		{"Patient/pa/$everything?_cursor=zzz", "_cursor", 400},
		{"Patient/nobody/$everything", "Patient.id", 404},
		{"Patient/nobody/$summary", "Patient.id", 404},
		{"Patient/pa/$summary?foo=1", "foo", 400},
		{"Patient?_count=-1", "_count", 400},
		{"Patient?_count=1000000", "_count", 422},
		{"$export?_type=Nope", "_type", 400},
		{"$export?_since=garbage", "_since", 400},
		{"$export?_typeFilter=Observation%3Fstatus%3Dfinal&_type=Patient", "_typeFilter", 400},
		{"$export?_typeFilter=Patient%3Fbogus%3D1", "_typeFilter", 400},
		{"$export?_outputFormat=text/csv", "_outputFormat", 400},
		{"Group/nope/$export", "Group.id", 404},
	} {
		r, err := c.Do(http.MethodGet, tc.path, nil, async)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != tc.status || !strings.Contains(string(r.Body), `"expression":["`+tc.expr+`"]`) {
			t.Errorf("GET %s: %s, want %d naming %s", tc.path, r, tc.status, tc.expr)
		}
	}
	// R4 dates are YYYY, YYYY-MM or YYYY-MM-DD: a partial start or end is valid input
	for _, path := range []string{"Patient/pa/$everything?start=2026", "Patient/pa/$everything?end=2026-07", "Patient/pa/$everything?start=2025-01-01T00:00:00Z"} {
		mustDo(t, c, http.MethodGet, path, nil, nil, http.StatusOK)
	}
	mustDo(t, c, http.MethodGet, "Patient/pa/$everything?start=2026-13", nil, nil, http.StatusBadRequest)
	// a huge _count is bounded, not refused, by $everything (a page holds at most --max-count)
	mustDo(t, c, http.MethodGet, "Patient/pa/$everything?_count=99999999999", nil, nil, http.StatusOK)
}

// TestHubReadsNeverWrite: 200 varied reads across the new paths (search pages,
// $everything pages, $summary, Binary reads raw and FHIR, includes, history) leave
// the main store file untouched: same size, same modification time. Only the audit
// store records them.
func TestHubReadsNeverWrite(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	store := filepath.Join(g.DataDir, "aitgw.db")
	time.Sleep(1100 * time.Millisecond) // a write after this would move the mtime
	before, err := os.Stat(store)
	if err != nil {
		t.Fatal(err)
	}
	sys := g.Client()
	pat := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", w.pa))
	doc := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Practitioner/doc"))
	reads := []struct {
		c      *Client
		path   string
		header map[string]string
	}{
		{sys, "Patient?_count=1", nil},
		{sys, "Observation?_count=1&_include=*", nil},
		{sys, "Patient/pa/$everything?_count=1", nil},
		{sys, "Patient/pb/$summary", nil},
		{sys, "Binary/binb", nil},
		{pat, "Binary/bina", map[string]string{"Accept": "application/pdf"}},
		{pat, "Patient/pa/$summary", nil},
		{pat, "DocumentReference?patient.identifier=" + ins + "%7C1&status=current", nil},
		{doc, "Patient/pa/$everything?_count=2", nil},
		{doc, "Communication?_revinclude=*&_count=1", nil},
	}
	n := 0
	for n < 200 {
		for _, rd := range reads {
			r, err := rd.c.Do(http.MethodGet, rd.path, nil, rd.header)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status >= 500 {
				t.Fatalf("GET %s: %s", rd.path, r)
			}
			n++
			// follow one next link too, as a pager does
			var b Bundle
			if r.Status == 200 && json.Unmarshal(r.Body, &b) == nil && b.Next() != "" {
				if _, err := rd.c.Do(http.MethodGet, b.Next(), nil, nil); err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
	}
	after, err := os.Stat(store)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("%d reads changed aitgw.db: %d bytes %v -> %d bytes %v", n, before.Size(), before.ModTime(), after.Size(), after.ModTime())
	}
}

// TestHubEndpointsHeaders: patient data leaves with nosniff and no-store on every new
// endpoint; the pages carry their CSP; /metrics is not served on the API port.
func TestHubEndpointsHeaders(t *testing.T) {
	g := startGateway(t)
	hubWorld(t, g)
	sys := g.Client()
	for _, path := range []string{"Patient/pa/$everything", "Patient/pa/$summary", "DocumentReference?_include=*", "Binary/bina"} {
		r := mustDo(t, sys, http.MethodGet, path, nil, nil, http.StatusOK)
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %v", path, r.Header)
		}
	}
	root := strings.TrimSuffix(g.BaseURL, "/fhir")
	anon := NewClient(g.BaseURL)
	for _, path := range []string{"/", "/app/"} {
		r := mustDo(t, anon, http.MethodGet, root+path, nil, map[string]string{"Accept": "text/html"}, http.StatusOK)
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: %v", path, r.Header)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		r := mustDo(t, anon, http.MethodGet, root+path, nil, nil, http.StatusOK)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %v", path, r.Header)
		}
	}
	if r, _ := sys.Do(http.MethodGet, root+"/metrics", nil, nil); r.Status == http.StatusOK {
		t.Errorf("/metrics answered on the API port: %s", r)
	}
}
