package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Issue #15: each finding of the attack run against the gateway, as a test against
// the real binary.

// outcomeExpr returns the first issue's code and expression of an OperationOutcome.
func outcomeExpr(t *testing.T, r *Response) (code, expr string) {
	t.Helper()
	var oo struct {
		ResourceType string
		Issue        []struct {
			Code       string
			Expression []string
		}
	}
	if err := json.Unmarshal(r.Body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome: %s", r)
	}
	if len(oo.Issue[0].Expression) > 0 {
		expr = oo.Issue[0].Expression[0]
	}
	return oo.Issue[0].Code, expr
}

// #15.1: 300 × GET Patient?_count=1 grew the store by 235 MB. The store must not
// grow at all under paged reads: its used size (bbolt's high-water mark, which a
// stored result set raises; the file itself grows in 16 MB steps) is measured with
// the gateway stopped, before and after.
func TestReadOnlyClientCannotFillTheDisk(t *testing.T) {
	dir := t.TempDir()
	g, err := Start(context.Background(), binary, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := g.Client()
	// enough patients that a stored result set would weigh (15 KB each)
	if r, err := c.Do(http.MethodPost, "", bulkTransaction(300), nil); err != nil || r.Status != http.StatusOK {
		g.Stop()
		t.Fatalf("transaction: %v %v", err, r)
	}
	g.Stop()
	before := storeSize(t, dir)
	g, err = Start(context.Background(), binary, dir)
	if err != nil {
		t.Fatal(err)
	}
	c = g.Client()
	for i := 0; i < 300; i++ {
		r, err := c.Do(http.MethodGet, "Patient?_count=1", nil, nil)
		if err != nil || r.Status != http.StatusOK {
			g.Stop()
			t.Fatalf("search %d: %v %v", i, err, r)
		}
	}
	ids, err := c.SearchAll("Patient?name=bulk&_count=100", "Patient", 10)
	g.Stop()
	if err != nil || len(ids) != 300 {
		t.Fatalf("paged through %d patients (%v), want 300", len(ids), err)
	}
	if after := storeSize(t, dir); after != before {
		t.Errorf("300 paged searches grew the store from %d to %d bytes", before, after)
	}
}

// storeSize returns the used size of the embedded store under dir.
func storeSize(t *testing.T, dir string) int64 {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, "aitgw.db"), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.View(func(tx *bbolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// #15.13: FHIR answers carry nosniff and no-store.
func TestFHIRResponsesAreNotSniffedOrCached(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	r, err := c.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Cache"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("create: %v %v", err, r)
	}
	for _, path := range []string{"Patient/" + IDFromLocation(r.Header.Get("Location")), "Patient?name=cache", "Patient/no-such-id"} {
		r, err := c.Do(http.MethodGet, path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: X-Content-Type-Options %q, Cache-Control %q", path, r.Header.Get("X-Content-Type-Options"), r.Header.Get("Cache-Control"))
		}
	}
}

func bulkTransaction(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"fullUrl":"urn:uuid:00000000-0000-4000-8000-%012d","resource":{"resourceType":"Patient","name":[{"family":"Bulk"}]},"request":{"method":"POST","url":"Patient"}}`, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// #15.4: a 10,000-entry transaction ran past 11 minutes; an 852-byte JSON Patch of
// copy operations took 13 s and 2.2 GB; a batch of 300 searches answered 89 MB.
// Each is refused before the work, with an OperationOutcome, and nothing is written.
func TestOneRequestsWorkIsBounded(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	r, err := c.Do(http.MethodPost, "", bulkTransaction(10000), nil)
	if err != nil || r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("10,000-entry transaction: %v %v", err, r)
	}
	if code, expr := outcomeExpr(t, r); code != "too-long" || expr != "Bundle.entry" {
		t.Errorf("code %s, expression %s", code, expr)
	}
	if ids, _ := c.SearchAll("Patient?name=bulk", "Patient", 5); len(ids) != 0 {
		t.Fatalf("the refused transaction wrote %d patients", len(ids))
	}

	r, _ = c.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Bomb"}]}`), nil)
	id := IDFromLocation(r.Header.Get("Location"))
	ops := strings.TrimSuffix(strings.Repeat(`{"op":"copy","from":"/name","path":"/name/-"},`, 18), ",")
	r, err = c.Do(http.MethodPatch, "Patient/"+id, []byte("["+ops+"]"), map[string]string{"Content-Type": "application/json-patch+json"})
	if err != nil || r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("copy-bomb JSON Patch: %v %v", err, r)
	}
	if r, _ := c.Do(http.MethodGet, "Patient/"+id, nil, nil); VersionFromETag(r.Header.Get("ETag")) != "1" {
		t.Fatalf("the refused patch wrote: ETag %s", r.Header.Get("ETag"))
	}

	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"batch","entry":[`)
	for i := 0; i < 300; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"request":{"method":"GET","url":"Patient?_count=1000"}}`)
	}
	b.WriteString("]}")
	r, err = c.Do(http.MethodPost, "", []byte(b.String()), nil)
	if err != nil || r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("batch of 300 searches: %v %v", err, r)
	}
	r, err = c.Do(http.MethodGet, "Patient?_count=100000", nil, nil)
	if err != nil || r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("_count=100000: %v %v", err, r)
	}
	if _, expr := outcomeExpr(t, r); expr != "_count" {
		t.Errorf("expression %s", expr)
	}
}

// The limits are settings: --max-bundle-entries lowers the Bundle limit.
func TestLimitsAreConfigurable(t *testing.T) {
	g, err := Start(context.Background(), binary, t.TempDir(), "--max-bundle-entries", "3")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	c := g.Client()
	if r, err := c.Do(http.MethodPost, "", bulkTransaction(4), nil); err != nil || r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("4 entries over a limit of 3: %v %v", err, r)
	}
	if r, err := c.Do(http.MethodPost, "", bulkTransaction(3), nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("3 entries: %v %v", err, r)
	}
}

// #15.6: 200 connections that send half a body were held forever, and idle
// keep-alives were never closed. With the read and idle timeouts set, the gateway
// closes both.
func TestSlowAndIdleConnectionsAreClosed(t *testing.T) {
	g, err := Start(context.Background(), binary, t.TempDir(), "--read-timeout", "1s", "--idle-timeout", "1s")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	u, _ := url.Parse(g.BaseURL)
	var conns []net.Conn
	for i := 0; i < 200; i++ {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		fmt.Fprintf(conn, "POST /fhir/Patient HTTP/1.1\r\nHost: %s\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{\"resourceType\":", u.Host)
	}
	for i, conn := range conns {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		for {
			if _, err := conn.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("slow-body connection %d still open after 10 s", i)
				}
				break // closed by the server
			}
		}
		conn.Close()
	}
	// an idle keep-alive connection
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /fhir/metadata HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("unexpected bytes on an idle connection")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("idle keep-alive connection still open after 10 s")
	}
}

// #15.9 and #15.10: ambiguous bytes and values outside R4 are refused with a 400
// naming the element; a leading BOM is accepted.
func TestAmbiguousBytesAreRefused(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	for _, tc := range []struct {
		name, body, expr string
	}{
		{"duplicate subject", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/b"},"subject":{"reference":"Patient/a"}}`, "Observation.subject"},
		{"resourceType twice", `{"resourceType":"Observation","resourceType":"Patient"}`, "Observation.resourceType"},
		{"invalid UTF-8", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\"}]}", ""},
		{"encoded surrogate", `{"resourceType":"Patient","name":[{"family":"\udc00"}]}`, "Patient.name[0].family"},
		{"NUL", `{"resourceType":"Patient","name":[{"family":"\u0000"}]}`, "Patient.name[0].family"},
		{"integer beyond 32 bits", `{"resourceType":"Patient","multipleBirthInteger":2147483648}`, "Patient.multipleBirthInteger"},
		{"1e400", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e400}}`, "Observation.valueQuantity.value"},
		{"[null]", `{"resourceType":"Patient","name":[null]}`, "Patient.name"},
		{"empty array", `{"resourceType":"Patient","name":[]}`, "Patient.name"},
		{"script in the narrative", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"}}`, "Patient.text.div"},
	} {
		typ := "Patient"
		if strings.HasPrefix(tc.body, `{"resourceType":"Observation"`) {
			typ = "Observation"
		}
		r, err := c.Do(http.MethodPost, typ, []byte(tc.body), nil)
		if err != nil || r.Status != http.StatusBadRequest {
			t.Errorf("%s: %v %v", tc.name, err, r)
			continue
		}
		if _, expr := outcomeExpr(t, r); tc.expr != "" && expr != tc.expr {
			t.Errorf("%s: expression %q, want %q", tc.name, expr, tc.expr)
		}
	}
	// an integer element whose name is a decimal elsewhere: the R4 schema knows it
	r, err := c.Do(http.MethodPost, "MedicationRequest", []byte(`{"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"morphine"},"subject":{"reference":"Patient/p"},"dosageInstruction":[{"sequence":3000000000,"text":"x"}]}`), nil)
	if err != nil || r.Status/100 != 4 {
		t.Errorf("dosageInstruction.sequence beyond 32 bits: %v %v", err, r)
	} else if _, expr := outcomeExpr(t, r); !strings.Contains(expr, "sequence") {
		t.Errorf("expression %q", expr)
	}
	if r, err := c.Do(http.MethodGet, "Patient?name=%FF%FE", nil, nil); err != nil || r.Status != http.StatusBadRequest {
		t.Errorf("invalid UTF-8 in a search value: %v %v", err, r)
	}
	r, err = c.Do(http.MethodPost, "Patient", []byte("\xef\xbb\xbf"+`{"resourceType":"Patient","name":[{"family":"Bom"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Errorf("leading BOM: %v %v", err, r)
	}
}

// #15.10: references to the wrong type or to an AuditEvent, duplicate fullUrls and
// dangling urn:uuid references in a transaction are refused.
func TestReferencesMustResolveToAllowedTypes(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	r, _ := c.Do(http.MethodPost, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/m"}}`), nil)
	if r.Status/100 != 4 {
		t.Errorf("subject naming a Medication: %v", r)
	} else if _, expr := outcomeExpr(t, r); expr != "Observation.subject.reference" {
		t.Errorf("expression %s", expr)
	}
	r, _ = c.Do(http.MethodPost, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"focus":[{"reference":"AuditEvent/a"}]}`), nil)
	if r.Status/100 != 4 {
		t.Errorf("reference to an AuditEvent: %v", r)
	}
	dup := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"A"}]},"request":{"method":"POST","url":"Patient"}},
	 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"B"}]},"request":{"method":"POST","url":"Patient"}}]}`
	// refused before anything runs: by the parser (400) or by the validator's bdl-7 (422)
	if r, _ := c.Do(http.MethodPost, "", []byte(dup), nil); r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), "fullUrl") {
		t.Errorf("duplicate fullUrl: %v", r)
	}
	dangling := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:00000000-0000-4000-8000-000000000000"}},"request":{"method":"POST","url":"Observation"}}]}`
	if r, _ := c.Do(http.MethodPost, "", []byte(dangling), nil); r.Status != http.StatusBadRequest {
		t.Errorf("dangling urn:uuid: %v", r)
	} else if _, expr := outcomeExpr(t, r); expr != "Bundle.entry[0].resource.subject.reference" {
		t.Errorf("expression %s", expr)
	}
}

// #15.11: an indexed string of 32,768 characters or more answered 500 on bbolt.
func TestLongIndexedStringIsStored(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	long := strings.Repeat("Longname", 5000) // 40,000 characters
	r, err := c.Do(http.MethodPost, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"`+long+`"}]}`), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("40,000-character family: %v %v", err, r)
	}
	id := IDFromLocation(r.Header.Get("Location"))
	ids, err := c.SearchAll("Patient?family:exact="+long, "Patient", 2)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Errorf("family:exact search: %v %v", ids, err)
	}
	if ids, _ := c.SearchAll("Patient?family:exact="+long[:len(long)-1], "Patient", 2); len(ids) != 0 {
		t.Errorf("a prefix matched :exact: %v", ids)
	}
}

// #15.4: nothing bounded a request's time. Past --request-deadline a request is
// cancelled with a 422, and a write leaves nothing behind (checked after a restart
// without the deadline).
func TestRequestPastItsDeadlineWritesNothing(t *testing.T) {
	dir := t.TempDir()
	g, err := Start(context.Background(), binary, dir, "--request-deadline", "1ns")
	if err != nil {
		t.Fatal(err)
	}
	r, err := g.Client().Do(http.MethodPost, "", bulkTransaction(20), nil)
	g.Stop()
	if err != nil || r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("transaction past the deadline: %v %v", err, r)
	}
	if code, _ := outcomeExpr(t, r); code != "too-costly" {
		t.Errorf("code %s", code)
	}
	g, err = Start(context.Background(), binary, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	if ids, err := g.Client().SearchAll("Patient?name=bulk", "Patient", 5); err != nil || len(ids) != 0 {
		t.Fatalf("%d patients written past the deadline (%v)", len(ids), err)
	}
}

// #15.1: the result sets earlier versions stored, and never deleted, are dropped
// when the gateway starts.
func TestStoredResultSetsAreDroppedAtStartup(t *testing.T) {
	dir := t.TempDir()
	g, err := Start(context.Background(), binary, dir)
	if err != nil {
		t.Fatal(err)
	}
	g.Stop()
	path := filepath.Join(dir, "aitgw.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	legacy := func(tx *bbolt.Tx) int {
		n := 0
		c := tx.Bucket([]byte("aux")).Cursor()
		for k, _ := c.Seek([]byte("searchset\x00")); k != nil && strings.HasPrefix(string(k), "searchset\x00"); k, _ = c.Next() {
			n++
		}
		return n
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for i := 0; i < 50; i++ {
			if err := tx.Bucket([]byte("aux")).Put([]byte(fmt.Sprintf("searchset\x00legacy-%d", i)), []byte(`{"type":"Patient","matches":[]}`)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	g, err = Start(context.Background(), binary, dir)
	if err != nil {
		t.Fatal(err)
	}
	g.Stop()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error {
		if n := legacy(tx); n != 0 {
			t.Errorf("%d stored result sets survived the restart", n)
		}
		return nil
	})
}
