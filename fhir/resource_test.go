package fhir

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStampKeepsEverythingButIDAndMeta(t *testing.T) {
	in := `{"resourceType":"Patient","_birthDate":{"extension":[{"url":"u","valueString":"<b>"}]},"meta":{"profile":["p"],"versionId":"9"},"birthDate":"1950","x":1.50}`
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	out, err := Stamp([]byte(in), "abc", 3, at)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Patient","id":"abc","_birthDate":{"extension":[{"url":"u","valueString":"<b>"}]},"meta":{"profile":["p"],"versionId":"3","lastUpdated":"2026-01-02T03:04:05.000000006Z"},"birthDate":"1950","x":1.50}`
	if string(out) != want {
		t.Fatalf("stamped\n got %s\nwant %s", out, want)
	}
}

func TestStampReplacesExistingID(t *testing.T) {
	out, err := Stamp([]byte(`{"resourceType":"Patient","id":"old"}`), "new", 1, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"id":"new"`) || strings.Contains(string(out), "old") {
		t.Fatalf("id not replaced: %s", out)
	}
}

func TestParseResourceRefusesBadInput(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	cases := map[string]struct {
		body string
		code string
		expr string
	}{
		"malformed":        {`{"resourceType":"Patient",`, "structure", ""},
		"array":            {`[{"resourceType":"Patient"}]`, "structure", ""},
		"no type":          {`{"id":"x"}`, "required", "resourceType"},
		"unknown type":     {`{"resourceType":"Patients"}`, "not-supported", "resourceType"},
		"bad id":           {`{"resourceType":"Patient","id":"a b"}`, "value", "Patient.id"},
		"too deep":         {`{"resourceType":"Patient","x":` + deep + `}`, "too-costly", ""},
		"trailing garbage": {`{"resourceType":"Patient"} {}`, "structure", ""},
		"empty":            {``, "structure", ""},
	}
	for name, c := range cases {
		_, err := ParseResource([]byte(c.body))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if err.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d", name, err.Status)
		}
		is := err.Outcome.Issue[0]
		if is.Code != c.code {
			t.Errorf("%s: code %q, want %q", name, is.Code, c.code)
		}
		if c.expr != "" && (len(is.Expression) == 0 || is.Expression[0] != c.expr) {
			t.Errorf("%s: expression %v, want %q", name, is.Expression, c.expr)
		}
	}
}

func TestParseResourceCompactsWithoutReordering(t *testing.T) {
	r, err := ParseResource([]byte("{ \"resourceType\" : \"Observation\",\n \"status\": \"final\", \"valueQuantity\": {\"value\": 1.0} }"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Body); got != `{"resourceType":"Observation","status":"final","valueQuantity":{"value":1.0}}` {
		t.Fatalf("body %s", got)
	}
}

func TestRewriteReferencesOnlyTouchesReferences(t *testing.T) {
	in := `{"resourceType":"Observation","text":{"status":"generated","div":"<div>see urn:uuid:1</div>"},"subject":{"reference":"urn:uuid:1","display":"urn:uuid:1"},"note":[{"text":"urn:uuid:1"}],"value":2.50}`
	out, err := RewriteReferences([]byte(in), func(ref string) (string, bool) {
		if ref == "urn:uuid:1" {
			return "Patient/p1", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Observation","text":{"status":"generated","div":"<div>see Patient/p1</div>"},"subject":{"reference":"Patient/p1","display":"urn:uuid:1"},"note":[{"text":"urn:uuid:1"}],"value":2.50}`
	if string(out) != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}

// TestIssuesCiteTheirSourcesWhenWritten: CiteSources renders an issue's citations
// as it is written out, in diagnostics and details alike, and leaves the issue
// itself unchanged.
func TestIssuesCiteTheirSourcesWhenWritten(t *testing.T) {
	defer func(prev func(string) string) { CiteSources = prev }(CiteSources)
	CiteSources = func(s string) string { return strings.ReplaceAll(s, "000 §V", "Référentiel, 000 §V") }
	is := Issue{Severity: SeverityError, Code: "business-rule", Diagnostics: "stale (000 §V)", Details: &CodeableText{Text: "000 §V"}}
	b := NewOutcome(is).JSON()
	if !strings.Contains(string(b), `"diagnostics":"stale (Référentiel, 000 §V)"`) || !strings.Contains(string(b), `"text":"Référentiel, 000 §V"`) {
		t.Fatalf("citations not rendered: %s", b)
	}
	if is.Diagnostics != "stale (000 §V)" || is.Details.Text != "000 §V" {
		t.Fatalf("the issue itself was changed: %+v", is)
	}
}
