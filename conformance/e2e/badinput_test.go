package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// badCase is one hostile or wrong request and what FHIR R4 (and issue #2 §9) says
// the answer must be.
type badCase struct {
	name    string
	method  string
	path    string
	header  map[string]string
	body    func() io.Reader
	status  []int    // any of these
	codes   []string // allowed issue.code values (issue-type value set)
	element string   // issue.expression must mention it ("" when no element is at fault)
}

func text(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }

// nested returns a Patient whose extension nests depth arrays deep.
func nested(depth int) func() io.Reader {
	return text(`{"resourceType":"Patient","extension":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
}

// hugePatient streams a syntactically valid Patient of about size bytes, never held
// in memory, so that the limit is what stops it.
func hugePatient(size int64) func() io.Reader {
	return func() io.Reader {
		head := strings.NewReader(`{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">`)
		tail := strings.NewReader(`</div>"}}`)
		return io.MultiReader(head, io.LimitReader(repeatReader('a'), size), tail)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

var (
	structure = []string{"structure", "invalid"}
	valueish  = []string{"value", "invalid", "processing", "structure"}
)

var badCases = []badCase{
	{name: "malformed JSON", method: "POST", path: "Patient", body: text(`{"resourceType":"Patient",`),
		status: []int{400}, codes: structure},
	{name: "not an object", method: "POST", path: "Patient", body: text(`["Patient"]`),
		status: []int{400}, codes: structure},
	{name: "empty body", method: "POST", path: "Patient", body: text(``),
		status: []int{400}, codes: append([]string{"required"}, structure...)},
	{name: "resourceType does not match the URL", method: "POST", path: "Patient",
		body:   text(`{"resourceType":"Observation","status":"final","code":{"text":"x"}}`),
		status: []int{400}, codes: []string{"invalid", "value", "processing", "structure"}, element: "resourceType"},
	{name: "resourceType missing", method: "POST", path: "Patient", body: text(`{"gender":"male"}`),
		status: []int{400}, codes: []string{"required", "invalid", "structure"}, element: "resourceType"},
	{name: "id mismatch on PUT", method: "PUT", path: "Patient/bad-input-a",
		body:   text(`{"resourceType":"Patient","id":"bad-input-b"}`),
		status: []int{400}, codes: []string{"invalid", "value", "processing"}, element: "id"},
	{name: "no id on PUT", method: "PUT", path: "Patient/bad-input-c", body: text(`{"resourceType":"Patient"}`),
		status: []int{400}, codes: []string{"required", "invalid", "value", "processing"}, element: "id"},
	{name: "invalid id in the URL", method: "PUT", path: "Patient/bad_id$", body: text(`{"resourceType":"Patient","id":"bad_id$"}`),
		status: []int{400}, codes: valueish, element: "id"},
	{name: "bad date search value", method: "GET", path: "Patient?birthdate=not-a-date",
		status: []int{400}, codes: valueish, element: "birthdate"},
	{name: "bad _count", method: "GET", path: "Patient?_count=many",
		status: []int{400}, codes: valueish, element: "_count"},
	{name: "bad date prefix", method: "GET", path: "Observation?date=xx2020",
		status: []int{400}, codes: valueish, element: "date"},
	{name: "unknown parameter under Prefer: handling=strict", method: "GET", path: "Patient?no-such-param=1",
		header: map[string]string{"Prefer": "handling=strict"},
		status: []int{400}, codes: []string{"not-supported", "invalid", "value", "processing"}, element: "no-such-param"},
	{name: "body over the size limit", method: "POST", path: "Patient", body: hugePatient(96 << 20),
		status: []int{413}, codes: []string{"too-costly", "too-long", "invalid", "structure"}},
	{name: "nesting deeper than the limit", method: "POST", path: "Patient", body: nested(5000),
		status: []int{400}, codes: []string{"too-costly", "structure", "invalid"}},
	{name: "unknown type read", method: "GET", path: "NoSuchType/1",
		status: []int{400, 404}, codes: []string{"not-supported", "not-found", "invalid"}},
	{name: "unknown type create", method: "POST", path: "NoSuchType", body: text(`{"resourceType":"NoSuchType"}`),
		status: []int{400, 404}, codes: []string{"not-supported", "not-found", "invalid"}},
	{name: "XML asked by Accept", method: "GET", path: "metadata", header: map[string]string{"Accept": "application/fhir+xml"},
		status: []int{406}, codes: []string{"not-supported"}},
	{name: "XML asked by _format", method: "GET", path: "Patient?_format=xml",
		status: []int{406}, codes: []string{"not-supported"}, element: "_format"},
	{name: "XML sent", method: "POST", path: "Patient", header: map[string]string{"Content-Type": "application/fhir+xml"},
		body:   text(`<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient>`),
		status: []int{415}, codes: []string{"not-supported"}},
	{name: "JSON Patch that does not apply", method: "PATCH", path: "Patient/bad-input-missing",
		header: map[string]string{"Content-Type": "application/json-patch+json"},
		body:   text(`[{"op":"replace","path":"/gender","value":"male"}]`),
		status: []int{404}, codes: []string{"not-found"}},
	// base R4: every resource written is valid for its type, claimed profiles or not
	{name: "code outside its required value set", method: "POST", path: "Patient", body: text(`{"resourceType":"Patient","gender":"banana"}`),
		status: []int{422}, codes: valueish, element: "Patient.gender"},
	{name: "date that is not a date", method: "POST", path: "Patient", body: text(`{"resourceType":"Patient","birthDate":"yesterday"}`),
		status: []int{422}, codes: valueish, element: "Patient.birthDate"},
	{name: "element R4 does not define", method: "PUT", path: "Patient/bad-input-d", body: text(`{"resourceType":"Patient","id":"bad-input-d","nickname":"Bob"}`),
		status: []int{422}, codes: structure, element: "Patient.nickname"},
	{name: "required element missing", method: "POST", path: "Observation", body: text(`{"resourceType":"Observation","status":"final"}`),
		status: []int{422}, codes: append([]string{"required"}, valueish...), element: "Observation"},
	{name: "invalid entry in a transaction", method: "POST", path: "",
		body: text(`{"resourceType":"Bundle","type":"transaction","entry":[` +
			`{"fullUrl":"urn:uuid:0b1e9e36-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","name":[{"family":"Valid"}]},"request":{"method":"POST","url":"Patient"}},` +
			`{"fullUrl":"urn:uuid:0b1e9e36-0000-4000-8000-000000000002","resource":{"resourceType":"Patient","gender":"banana"},"request":{"method":"POST","url":"Patient"}}]}`),
		status: []int{422}, codes: valueish, element: "Bundle.entry[1].resource.gender"},
	{name: "transaction that is not a Bundle", method: "POST", path: "", body: text(`{"resourceType":"Patient"}`),
		status: []int{400, 404, 405, 422}, codes: []string{"invalid", "structure", "not-supported", "processing", "value"}, element: "resourceType"},
}

// TestBadInput sends every badCase and requires a 4xx carrying an OperationOutcome
// with issue.code (and issue.expression naming the element where one is at fault),
// never a 5xx, and afterwards a server that still answers and holds nothing.
func TestBadInput(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != nil {
				body = tc.body()
			}
			resp, err := c.DoReader(tc.method, tc.path, body, tc.header)
			if err != nil {
				t.Fatalf("%s /fhir/%s: %v", tc.method, tc.path, err)
			}
			if !containsInt(tc.status, resp.Status) {
				t.Errorf("%s /fhir/%s: want status %v, got %s", tc.method, tc.path, tc.status, resp)
			}
			if resp.Status >= 500 {
				return
			}
			checkOutcome(t, tc, resp)
		})
	}
	if g.Exited() {
		t.Fatalf("the gateway died during bad input: %s", g.Logs())
	}
	// Nothing of the refused writes may exist. (The system history also holds what
	// the gateway writes itself: the AIT guide's conformance resources, seeded at
	// start, and the audit trail.)
	resp, err := c.Do(http.MethodGet, "_history?_count=1000", nil, nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("GET /fhir/_history after bad input: %v %v", err, resp)
	}
	var b struct {
		Entry []struct {
			FullURL string `json:"fullUrl"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(resp.Body, &b); err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entry {
		typ := strings.Split(strings.TrimPrefix(e.FullURL, g.BaseURL+"/"), "/")[0]
		switch typ {
		case "StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "OperationDefinition", "AuditEvent":
		default:
			t.Errorf("bad input left %s behind", e.FullURL)
		}
	}
}

// checkOutcome requires an OperationOutcome whose first error issue has an allowed
// code and, when the case names an element, an expression mentioning it.
func checkOutcome(t *testing.T, tc badCase, resp *Response) {
	t.Helper()
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity   string   `json:"severity"`
			Code       string   `json:"code"`
			Expression []string `json:"expression"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(resp.Body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Errorf("%s /fhir/%s: body is not an OperationOutcome with issues: %s", tc.method, tc.path, resp)
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") && !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s /fhir/%s: Content-Type %q, want application/fhir+json", tc.method, tc.path, ct)
	}
	is := oo.Issue[0]
	if is.Severity != "error" && is.Severity != "fatal" {
		t.Errorf("%s /fhir/%s: issue.severity %q, want error or fatal", tc.method, tc.path, is.Severity)
	}
	if !containsString(tc.codes, is.Code) {
		t.Errorf("%s /fhir/%s: issue.code %q, want one of %v", tc.method, tc.path, is.Code, tc.codes)
	}
	if tc.element == "" {
		return
	}
	found := false
	for _, e := range is.Expression {
		found = found || strings.Contains(e, tc.element)
	}
	if !found {
		t.Errorf("%s /fhir/%s: issue.expression %q must name %q", tc.method, tc.path, is.Expression, tc.element)
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
