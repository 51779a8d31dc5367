package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The seams between the pieces of issues #11–#15 and #17, probed as a hospital's
// security reviewer would, against the real binary: each test is named after what
// a seam let through (or, for the acceptance checks, what it must keep holding).

// hubWorld is seedWorld plus the hub's document types for both patients: a PDF
// Binary per patient (securityContext), a DocumentReference to it, a Communication,
// a DetectedIssue, a Composition and a cohort Group. Practitioner/doc authors pa's
// CarePlan, so a user/ token of doc has pa (and only pa) in its care.
func hubWorld(t *testing.T, g *Gateway) world {
	t.Helper()
	c := g.Client()
	w := seedWorld(t, c)
	for _, r := range []struct{ path, body string }{
		{"CarePlan/cpa", `{"resourceType":"CarePlan","id":"cpa","status":"active","intent":"plan","subject":{"reference":"Patient/pa"},"author":{"reference":"Practitioner/doc"}}`},
		{"Binary/bina", `{"resourceType":"Binary","id":"bina","contentType":"application/pdf","securityContext":{"reference":"Patient/pa"},"data":"JVBERi0xLjQK"}`},
		{"Binary/binb", `{"resourceType":"Binary","id":"binb","contentType":"application/pdf","securityContext":{"reference":"Patient/pb"},"data":"JVBERi0xLjQK"}`},
		{"DocumentReference/dra", `{"resourceType":"DocumentReference","id":"dra","status":"current","subject":{"reference":"Patient/pa"},"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/bina"}}]}`},
		{"DocumentReference/drb", `{"resourceType":"DocumentReference","id":"drb","status":"current","subject":{"reference":"Patient/pb"},"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/binb"}}]}`},
		{"Communication/cb", `{"resourceType":"Communication","id":"cb","status":"completed","subject":{"reference":"Patient/pb"},"payload":[{"contentReference":{"reference":"Binary/binb"}}]}`},
		{"Communication/ca", `{"resourceType":"Communication","id":"ca","status":"completed","subject":{"reference":"Patient/pa"},"payload":[{"contentReference":{"reference":"DocumentReference/drb"}}]}`},
		{"DetectedIssue/dib", `{"resourceType":"DetectedIssue","id":"dib","status":"final","patient":{"reference":"Patient/pb"}}`},
		{"Composition/cob", `{"resourceType":"Composition","id":"cob","status":"final","type":{"text":"summary"},"subject":{"reference":"Patient/pb"},"date":"2026-01-01","author":[{"reference":"Practitioner/doc"}],"title":"x"}`},
	} {
		if resp, err := c.Do(http.MethodPut, r.path, []byte(r.body), nil); err != nil || resp.Status >= 300 {
			t.Fatalf("seed %s: %v %s", r.path, err, resp)
		}
	}
	return w
}

// TestSummaryOfAPatientOutsideTheUsersCare: $summary checked only a patient-context
// token, so a Practitioner's user/ token read the whole IPS of any patient, though a
// read of the same Patient was refused.
func TestSummaryOfAPatientOutsideTheUsersCare(t *testing.T) {
	g := startGateway(t)
	hubWorld(t, g)
	doc := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Practitioner/doc"))
	for _, path := range []string{"Patient/pb/$summary", "Patient/pb"} {
		r := mustDo(t, doc, http.MethodGet, path, nil, nil, http.StatusForbidden)
		if !strings.Contains(string(r.Body), `"Patient.id"`) {
			t.Errorf("GET %s: the 403 names no element: %s", path, r)
		}
	}
	mustDo(t, doc, http.MethodPost, "Patient/pb/$summary", []byte(`{"resourceType":"Parameters"}`), nil, http.StatusForbidden)
	// the patient in the user's care, and a system client, still get the document
	if r := mustDo(t, doc, http.MethodGet, "Patient/pa/$summary", nil, nil, http.StatusOK); !strings.Contains(string(r.Body), `"document"`) {
		t.Errorf("summary of a patient in care: %s", r)
	}
	mustDo(t, g.Client(), http.MethodGet, "Patient/pb/$summary", nil, nil, http.StatusOK)
}

// TestRawBinaryOutsideTheUsersCare: the raw Binary path (Accept: application/pdf)
// confined patient-context tokens only, so a user/ token read any patient's letter
// or summary PDF, though the FHIR read of that Binary was refused.
func TestRawBinaryOutsideTheUsersCare(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	pdf := map[string]string{"Accept": "application/pdf"}
	doc := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Practitioner/doc"))
	pat := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", w.pa))
	for name, c := range map[string]*Client{"user/ token of doc": doc, "patient/ token of pa": pat} {
		r := mustDo(t, c, http.MethodGet, "Binary/binb", nil, pdf, http.StatusForbidden)
		if strings.Contains(string(r.Body), "%PDF") || !strings.Contains(string(r.Body), "Binary.securityContext") {
			t.Errorf("%s, Binary of pb: %s", name, r)
		}
		r = mustDo(t, c, http.MethodGet, "Binary/bina", nil, pdf, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/pdf" || !strings.HasPrefix(string(r.Body), "%PDF") {
			t.Errorf("%s, Binary of pa: %s %q", name, ct, r.Body)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: a patient's PDF without nosniff/no-store: %v", name, r.Header)
		}
	}
	mustDo(t, g.Client(), http.MethodGet, "Binary/binb", nil, pdf, http.StatusOK)
}

// TestPathwayCarePlanRoundTrip: the gateway writes the pathway CarePlan as valid
// R4 (its referral in supportingInfo: CarePlan.basedOn takes CarePlans only, and
// the guide's profile and example once put the ServiceRequest there, which the
// strict reference check then refused), and a client reading it and writing it back
// is told, with a reason, that the pathway state is the gateway's (issue #10), not
// that the gateway's own output is invalid.
func TestPathwayCarePlanRoundTrip(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	_, careplan := postReferral(t, c)
	r := mustDo(t, c, http.MethodGet, "CarePlan/"+careplan, nil, nil, http.StatusOK)
	if !strings.Contains(string(r.Body), `"supportingInfo":[{"display":"the referral that opened this pathway","reference":"ServiceRequest/`) ||
		strings.Contains(string(r.Body), `"basedOn"`) {
		t.Fatalf("the pathway CarePlan does not name its referral in supportingInfo: %s", r)
	}
	back := mustDo(t, c, http.MethodPut, "CarePlan/"+careplan, r.Body, nil, http.StatusForbidden)
	if strings.Contains(string(back.Body), "basedOn") || !strings.Contains(string(back.Body), "000 §III") {
		t.Errorf("writing the pathway CarePlan back: %s", back)
	}
}

// TestCohortGroupShowsOtherPatients: a Group of the pathway's patients is in each
// member's compartment, so a patient-context token (and a user/ token with one
// member in its care) read the whole member list: the other patients' ids, and that
// they are in the intrathecal analgesia pathway. A Group of the reader's patients
// only stays visible.
func TestCohortGroupShowsOtherPatients(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	c := g.Client()
	for _, put := range []struct{ path, body string }{
		{"Group/cohort", `{"resourceType":"Group","id":"cohort","type":"person","actual":true,"name":"AIT pathway","member":[{"entity":{"reference":"Patient/pa"}},{"entity":{"reference":"` + g.BaseURL + `/Patient/pb"}}]}`},
		// a Group that listed pb too at first: its first version stays hidden
		{"Group/own", `{"resourceType":"Group","id":"own","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/pa"}},{"entity":{"reference":"Patient/pb"}}]}`},
		{"Group/own", `{"resourceType":"Group","id":"own","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/pa"}}]}`},
	} {
		if r, err := c.Do(http.MethodPut, put.path, []byte(put.body), nil); err != nil || r.Status >= 300 {
			t.Fatalf("PUT %s: %v %s", put.path, err, r)
		}
	}
	pat := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", w.pa))
	doc := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Practitioner/doc"))
	for name, cl := range map[string]*Client{"patient/ token of pa": pat, "user/ token of doc": doc} {
		mustDo(t, cl, http.MethodGet, "Group/cohort", nil, nil, http.StatusForbidden)
		mustDo(t, cl, http.MethodGet, "Group/cohort/_history", nil, nil, http.StatusForbidden)
		mustDo(t, cl, http.MethodGet, "Group/own", nil, nil, http.StatusOK)
		mustDo(t, cl, http.MethodGet, "Group/own/_history/1", nil, nil, http.StatusForbidden)
		for _, path := range []string{"Group", "Group?member=Patient/pa", "Patient?_revinclude=Group:member", "Patient/pa/$everything", "Group/_history", "Group/own/_history"} {
			r := mustDo(t, cl, http.MethodGet, path, nil, nil, http.StatusOK)
			ids := bundleIDs(t, r)
			if slices.Contains(ids, "Group/cohort") || strings.Contains(string(r.Body), "Patient/pb") {
				t.Errorf("%s, GET %s shows the cohort: %v", name, path, ids)
			}
		}
	}
	// a system client sees the cohort
	mustDo(t, c, http.MethodGet, "Group/cohort", nil, nil, http.StatusOK)
}

// TestOwnBinaryRefusedAsFHIRJSON: server/binary let a confined reader read the
// Binaries whose securityContext is its patient, but the confinement layer then
// refused every Binary to a confined token (Binary lies outside the compartment):
// a patient's own letter or summary came raw (Accept: application/pdf) but not as
// FHIR JSON (TestHubSummaryAndDocuments was red).
func TestOwnBinaryRefusedAsFHIRJSON(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	pat := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", w.pa))
	doc := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Practitioner/doc"))
	for name, c := range map[string]*Client{"patient/ token of pa": pat, "user/ token of doc": doc} {
		r := mustDo(t, c, http.MethodGet, "Binary/bina", nil, nil, http.StatusOK)
		if !strings.Contains(string(r.Body), `"securityContext":{"reference":"Patient/pa"}`) {
			t.Errorf("%s: %s", name, r)
		}
		mustDo(t, c, http.MethodGet, "Binary/bina/_history", nil, nil, http.StatusOK)
		for _, path := range []string{"Binary/binb", "Binary/binb/_history", "Binary/nosuch"} {
			mustDo(t, c, http.MethodGet, path, nil, nil, http.StatusForbidden)
		}
		// a search is refused (patient context) or finds none of pb's
		if r, err := c.Do(http.MethodGet, "Binary?_id=bina,binb", nil, nil); err != nil {
			t.Fatal(err)
		} else if r.Status != http.StatusForbidden && (r.Status != http.StatusOK || slices.Contains(bundleIDs(t, r), "Binary/binb")) {
			t.Errorf("%s: a Binary search: %s", name, r)
		}
	}
}

// TestLandingPageLinksLead: the landing page linked the implementer guide at /ig/,
// which answered 401 without a token and 404 with one. Every link of the landing page
// and of the guide's index now answers 200 without a token.
func TestLandingPageLinksLead(t *testing.T) {
	g := startGateway(t)
	root := strings.TrimSuffix(g.BaseURL, "/fhir")
	anon := NewClient(g.BaseURL)
	html := map[string]string{"Accept": "text/html"}
	hrefs := func(body []byte) []string {
		var out []string
		for _, part := range strings.Split(string(body), `href="`)[1:] {
			if u, _, ok := strings.Cut(part, `"`); ok && strings.HasPrefix(u, "/") {
				out = append(out, u)
			}
		}
		return out
	}
	landing := mustDo(t, anon, http.MethodGet, root+"/", nil, html, http.StatusOK)
	guide := mustDo(t, anon, http.MethodGet, root+"/ig/", nil, html, http.StatusOK)
	if !strings.HasPrefix(guide.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(guide.Body), "$ait-referral") ||
		guide.Header.Get("X-Content-Type-Options") != "nosniff" || guide.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /ig/: %v %.300s", guide.Header, guide.Body)
	}
	for _, u := range append(hrefs(landing.Body), hrefs(guide.Body)...) {
		if r, err := anon.Do(http.MethodGet, root+u, nil, map[string]string{"Accept": "*/*"}); err != nil || r.Status != http.StatusOK {
			t.Errorf("link %s without a token: %v %s", u, err, r)
		}
	}
}

// TestEarlierVersionOfAnotherPatient: a result or document filed under pb and then
// corrected to pa kept its first version readable by pa's token (vread, instance,
// type and system history): pb's data, shown across patients. Earlier versions are
// now judged by the patient they named.
func TestEarlierVersionOfAnotherPatient(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	c := g.Client()
	for _, body := range []string{
		`{"resourceType":"Observation","id":"misfiled","status":"final","code":{"text":"result of Beta"},"subject":{"reference":"Patient/pb"}}`,
		`{"resourceType":"Observation","id":"misfiled","status":"final","code":{"text":"result of Alpha"},"subject":{"reference":"Patient/pa"}}`,
	} {
		if r, err := c.Do(http.MethodPut, "Observation/misfiled", []byte(body), nil); err != nil || r.Status >= 300 {
			t.Fatalf("PUT: %v %s", err, r)
		}
	}
	for _, body := range []string{
		`{"resourceType":"Binary","id":"misbin","contentType":"text/plain","securityContext":{"reference":"Patient/pb"},"data":"QmV0YQ=="}`,
		`{"resourceType":"Binary","id":"misbin","contentType":"text/plain","securityContext":{"reference":"Patient/pa"},"data":"QWxwaGE="}`,
	} {
		if r, err := c.Do(http.MethodPut, "Binary/misbin", []byte(body), nil); err != nil || r.Status >= 300 {
			t.Fatalf("PUT: %v %s", err, r)
		}
	}
	pat := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", w.pa))
	doc := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Practitioner/doc"))
	for name, cl := range map[string]*Client{"patient/ token of pa": pat, "user/ token of doc": doc} {
		for _, path := range []string{"Observation/misfiled/_history/1", "Binary/misbin/_history/1"} {
			mustDo(t, cl, http.MethodGet, path, nil, nil, http.StatusForbidden)
		}
		mustDo(t, cl, http.MethodGet, "Observation/misfiled/_history/2", nil, nil, http.StatusOK)
		for _, path := range []string{"Observation/misfiled/_history", "Binary/misbin/_history", "Observation/_history", "_history?_count=100"} {
			r, err := cl.Do(http.MethodGet, path, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status == http.StatusOK && (strings.Contains(string(r.Body), "result of Beta") || strings.Contains(string(r.Body), "QmV0YQ==")) {
				t.Errorf("%s, GET %s shows the version filed under pb", name, path)
			} else if r.Status != http.StatusOK && r.Status != http.StatusForbidden {
				t.Errorf("%s, GET %s: %s", name, path, r)
			}
		}
	}
	// the system sees every version
	mustDo(t, c, http.MethodGet, "Observation/misfiled/_history/1", nil, nil, http.StatusOK)
}

// TestGatewayWrittenResourcesRoundTrip: every resource the gateway wrote itself
// along a whole pathway (letters as Communication, DocumentReference and Binary,
// summary documents, tasks, issues) is accepted back unchanged from a client: the
// strict parsing and reference checks do not refuse the gateway's own output. The
// pathway CarePlan and the DetectedIssues the rules raised are the gateway's state,
// which no client writes (TestPathwayCarePlanRoundTrip).
func TestGatewayWrittenResourcesRoundTrip(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	postSamplePathway(t, c)
	seen := 0
	for _, typ := range []string{"Communication", "DocumentReference", "Binary", "Task", "Composition",
		"ServiceRequest", "Procedure", "MedicationRequest", "Observation", "Condition", "Device", "Patient", "Encounter", "Provenance"} {
		r := mustDo(t, c, http.MethodGet, typ+"?_count=200", nil, nil, http.StatusOK)
		var b Bundle
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Entry {
			var id struct{ ID string }
			json.Unmarshal(e.Resource, &id)
			back, err := c.Do(http.MethodPut, typ+"/"+id.ID, e.Resource, nil)
			if err != nil {
				t.Fatal(err)
			}
			if back.Status != http.StatusOK {
				t.Errorf("PUT %s/%s as read: %s", typ, id.ID, back)
			}
			seen++
		}
	}
	if seen < 20 {
		t.Errorf("only %d resources written along the pathway", seen)
	}
}

// TestEverythingAndHistoryIgnoreMaxResponse: --max-response bounded searches and
// batches only; a $everything or _history page of the same size was built and sent
// whole.
func TestEverythingAndHistoryIgnoreMaxResponse(t *testing.T) {
	g, err := Start(context.Background(), binary, t.TempDir(), "--max-response", "4000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	c := g.Client()
	mustDo(t, c, http.MethodPut, "Patient/p1", []byte(`{"resourceType":"Patient","id":"p1"}`), nil, http.StatusCreated)
	long := strings.Repeat("x", 300)
	for i := 0; i < 30; i++ {
		mustDo(t, c, http.MethodPost, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"`+long+`"},"subject":{"reference":"Patient/p1"}}`), nil, http.StatusCreated)
	}
	for _, path := range []string{"Observation?_count=30", "Patient/p1/$everything?_count=30", "_history?_count=30", "Observation/_history?_count=30"} {
		if r := mustDo(t, c, http.MethodGet, path, nil, nil, http.StatusUnprocessableEntity); !strings.Contains(string(r.Body), "--max-response") {
			t.Errorf("GET %s: %s", path, r)
		}
	}
	for _, path := range []string{"Patient/p1/$everything?_count=2", "_history?_count=2"} {
		mustDo(t, c, http.MethodGet, path, nil, nil, http.StatusOK)
	}
}

// TestSummaryIgnoresScopeConstraints: $summary checked the types a token may read,
// not the SMART v2 query constraints on them, so a token granted only active
// Conditions (patient/Condition.rs?clinical-status=active) read the resolved ones in
// the summary, which a search of the same token hides.
func TestSummaryIgnoresScopeConstraints(t *testing.T) {
	g := startGateway(t)
	w := hubWorld(t, g)
	c := g.Client()
	for id, status := range map[string]string{"active1": "active", "hidden1": "resolved"} {
		body := `{"resourceType":"Condition","id":"` + id + `","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"` + status + `"}]},
		 "code":{"text":"condition ` + id + `"},"subject":{"reference":"Patient/pa"}}`
		mustDo(t, c, http.MethodPut, "Condition/"+id, []byte(body), nil, http.StatusCreated)
	}
	narrow := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/Patient.rs patient/Condition.rs?clinical-status=active", w.pa))
	if ids := bundleIDs(t, mustDo(t, narrow, http.MethodGet, "Condition", nil, nil, http.StatusOK)); strings.Join(ids, ",") != "Condition/active1" {
		t.Fatalf("search with the constrained scope: %v", ids)
	}
	r := mustDo(t, narrow, http.MethodGet, "Patient/pa/$summary", nil, nil, http.StatusOK)
	if strings.Contains(string(r.Body), "condition hidden1") || !strings.Contains(string(r.Body), "condition active1") {
		t.Errorf("the summary under a constrained scope: %.2000s", r.Body)
	}
	// the whole token still sees both
	full := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", w.pa))
	if r := mustDo(t, full, http.MethodGet, "Patient/pa/$summary", nil, nil, http.StatusOK); !strings.Contains(string(r.Body), "condition hidden1") {
		t.Errorf("the summary of patient/*.rs lacks the resolved Condition")
	}
}
