package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// The attack catalogue of issue #15 on access confinement (items 3, 7, 8 and the
// user/ scopes of 13), against the real binary. Each test is named after the finding.

// userToken mints a user/ token whose fhirUser is user.
func userToken(t *testing.T, g *Gateway, scope, user string) string {
	t.Helper()
	out, err := exec.Command(binary, "token", "--data", g.DataDir, "--base-url", g.BaseURL, "--scope", scope, "--fhir-user", user).Output()
	if err != nil {
		t.Fatalf("aitgw token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// ins is the INS identifier system (French national health identifier).
const ins = "urn:oid:1.2.250.1.213.1.4.8"

// seedOracle adds to the world a patient pc with an INS and a GP of its own.
func seedOracle(t *testing.T, c *Client) {
	t.Helper()
	for path, body := range map[string]string{
		"Practitioner/gpc": `{"resourceType":"Practitioner","id":"gpc","name":[{"family":"Generaliste"}]}`,
		"Patient/pc": `{"resourceType":"Patient","id":"pc","name":[{"family":"Gamma"}],"identifier":[{"system":"` + ins + `","value":"1850275123456"}],
		  "generalPractitioner":[{"reference":"Practitioner/gpc"}]}`,
	} {
		if r, err := c.Do(http.MethodPut, path, []byte(body), nil); err != nil || r.Status >= 300 {
			t.Fatalf("seed %s: %v %s", path, err, r)
		}
	}
}

// TestAuditTrailAndSearchOracles is issue #15 item 8: chains, _has, _include and
// _revinclude apply the scopes and compartment of the type they reach.
func TestAuditTrailAndSearchOracles(t *testing.T) {
	g := startGateway(t)
	w := seedWorld(t, g.Client())
	seedOracle(t, g.Client())
	pat := NewClient(g.BaseURL)
	pat.Token = tokenFor(t, g, "patient/*.rs", w.pa)
	obsOnly := NewClient(g.BaseURL)
	obsOnly.Token = tokenFor(t, g, "system/Observation.rs", "")

	refused := []struct {
		name string
		c    *Client
		path string
	}{
		{"_has on AuditEvent without its scope", pat, "Patient?_has:AuditEvent:patient:action=R"},
		{"chain probing Patient names with only Observation scope", obsOnly, "Observation?subject.family=Beta"},
		{"typed chain probing Patient names", obsOnly, "Observation?subject:Patient.family=Beta"},
		{"_has probing Patients with only Practitioner scope", NewClientWith(g.BaseURL, tokenFor(t, g, "system/Practitioner.rs", "")), "Practitioner?_has:Patient:general-practitioner:family=Gamma"},
	}
	for _, c := range refused {
		r, err := c.c.Do(http.MethodGet, c.path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), `"OperationOutcome"`) {
			t.Errorf("%s: GET %s answered %d, want 403 with an OperationOutcome: %s", c.name, c.path, r.Status, r)
		}
	}

	nothing := []struct{ name, path string }{
		{"INS oracle through _has", "Practitioner?_has:Patient:general-practitioner:identifier=" + ins + "%7C1850275123456"},
		{"name oracle through _has", "Practitioner?_has:Patient:general-practitioner:family=Gamma"},
		{"chain into another patient", "Observation?subject:Patient.family=Beta"},
		{"_revinclude of the audit trail", "Patient?_id=pa&_revinclude=AuditEvent:patient"},
	}
	for _, c := range nothing {
		r, err := pat.Do(http.MethodGet, c.path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := bundleIDs(t, r)
		for _, id := range got {
			if id == "Practitioner/gpc" || id == "Patient/pb" || id == "Patient/pc" || strings.HasPrefix(id, "AuditEvent/") || id == "Observation/ob" {
				t.Errorf("%s: GET %s revealed %s (%v)", c.name, c.path, id, got)
			}
		}
	}
	// an :iterate walk does not pass through another patient's data
	r, _ := pat.Do(http.MethodGet, "Practitioner?_id=doc&_revinclude=Patient:general-practitioner&_revinclude:iterate=Observation:subject", nil, nil)
	for _, id := range bundleIDs(t, r) {
		if id == "Patient/pb" || id == "Observation/ob" {
			t.Errorf("revinclude:iterate reached %s", id)
		}
	}
	// a conditional reference is no INS oracle: another patient's INS matches nothing
	wr := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.cruds", w.pa))
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
	 "subject":{"reference":"Patient?identifier=` + ins + `|1850275123456"}},"request":{"method":"POST","url":"Observation"}}]}`
	if r, _ := wr.Do(http.MethodPost, "", []byte(tx), nil); r.Status != http.StatusPreconditionFailed {
		t.Errorf("conditional reference to another patient's INS: %d, want 412 as for an unknown INS: %s", r.Status, r)
	}
	// with the target's scope, the same chain answers
	both := NewClientWith(g.BaseURL, tokenFor(t, g, "system/Observation.rs system/Patient.rs", ""))
	r, _ = both.Do(http.MethodGet, "Observation?subject:Patient.family=Beta", nil, nil)
	if got := bundleIDs(t, r); strings.Join(got, ",") != "Observation/ob" {
		t.Errorf("chain with both scopes: %v %s", got, r)
	}
}

// NewClientWith is NewClient with a bearer token.
func NewClientWith(base, token string) *Client {
	c := NewClient(base)
	c.Token = token
	return c
}

// subscriptionBody is a rest-hook Subscription to endpoint with a secret header and
// the given filters, full-resource.
func subscriptionBody(endpoint string, filters ...string) []byte {
	return subscriptionWithSecret(endpoint, "receiver-s3cret", filters...)
}

// subscriptionWithSecret is subscriptionBody with the secret of the header.
func subscriptionWithSecret(endpoint, secret string, filters ...string) []byte {
	var ext []string
	for _, f := range filters {
		ext = append(ext, fmt.Sprintf(`{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria","valueString":%q}`, f))
	}
	crit := ""
	if len(ext) > 0 {
		crit = `"_criteria":{"extension":[` + strings.Join(ext, ",") + `]},`
	}
	return []byte(fmt.Sprintf(`{"resourceType":"Subscription","status":"requested","reason":"milestones",%s
	 "criteria":"https://aitgw.org/fhir/SubscriptionTopic/milestone",
	 "channel":{"type":"rest-hook","endpoint":%q,"payload":"application/fhir+json","header":["Authorization: Bearer %s"],
	  "_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"full-resource"}]}}}`, crit, endpoint, secret))
}

// TestSubscriptionsIgnoreThePatientCompartment is issue #15 item 3: another patient's
// token does not see a Subscription (read, search, history, vread), nobody but its
// owner sees channel.header, a patient token cannot create an unfiltered one, and a
// patient's filtered Subscription is told nothing of another patient.
func TestSubscriptionsIgnoreThePatientCompartment(t *testing.T) {
	rcvA := newReceiver(t)
	rcvA.accept.Store(true)
	rcvOp := newReceiver(t)
	rcvOp.accept.Store(true)
	g := startGateway(t)
	op := g.Client()
	pa := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.cruds", "pa"))
	pb := NewClientWith(g.BaseURL, tokenFor(t, g, "patient/*.rs", "pb"))

	// a patient token's unfiltered full-resource Subscription is refused
	r, err := pa.Do(http.MethodPost, "Subscription", subscriptionBody(rcvA.srv.URL), nil)
	if err != nil || r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "backport-filter-criteria") {
		t.Fatalf("unfiltered Subscription of a patient token: %v %s", err, r)
	}
	r, _ = pa.Do(http.MethodPost, "Subscription", subscriptionBody(rcvA.srv.URL, "Communication?patient=Patient/pb"), nil)
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("Subscription of pa filtered on pb: %s", r)
	}
	r, err = pa.Do(http.MethodPost, "Subscription", subscriptionBody(rcvA.srv.URL, "Communication?patient=Patient/pa"), nil)
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("Subscription of pa filtered on pa: %v %s", err, r)
	}
	var sub struct{ ID string }
	json.Unmarshal(r.Body, &sub)
	// the operator's own, unfiltered: it proves that milestones are delivered
	if r, err := op.Do(http.MethodPost, "Subscription", subscriptionWithSecret(rcvOp.srv.URL, "operator-own"), nil); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("operator Subscription: %v %s", err, r)
	}

	for _, path := range []string{"Subscription/" + sub.ID, "Subscription/" + sub.ID + "/_history/1", "Subscription/" + sub.ID + "/_history"} {
		if r, _ := pb.Do(http.MethodGet, path, nil, nil); r.Status != http.StatusForbidden {
			t.Errorf("pb GET %s: %d %s", path, r.Status, r)
		}
	}
	for _, path := range []string{"Subscription", "Subscription/_history", "Subscription?_id=" + sub.ID, "_history"} {
		r, _ := pb.Do(http.MethodGet, path, nil, nil)
		if slices.Contains(bundleIDs(t, r), "Subscription/"+sub.ID) || strings.Contains(string(r.Body), "receiver-s3cret") {
			t.Errorf("pb GET %s revealed pa's Subscription: %s", path, r)
		}
	}
	// the operator (system scope) sees it, without the receiver's secret
	for _, path := range []string{"Subscription/" + sub.ID, "Subscription/" + sub.ID + "/_history/1", "Subscription/" + sub.ID + "/_history", "Subscription", "Subscription/_history", "_history"} {
		r, _ := op.Do(http.MethodGet, path, nil, nil)
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), "receiver-s3cret") {
			t.Errorf("operator GET %s: %d, secret shown: %v", path, r.Status, strings.Contains(string(r.Body), "receiver-s3cret"))
		}
	}
	// its owner reads it whole
	if r, _ := pa.Do(http.MethodGet, "Subscription/"+sub.ID, nil, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "receiver-s3cret") {
		t.Errorf("owner read: %d", r.Status)
	}

	// a referral for another patient: the operator hears of it, pa's receiver not
	postReferral(t, op)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, got := rcvOp.snapshot(); len(got) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, got := rcvOp.snapshot(); len(got) == 0 {
		t.Fatal("the operator's Subscription received no notification: the check below would prove nothing")
	}
	time.Sleep(2 * time.Second) // the worker delivers lanes in parallel
	if _, got := rcvA.snapshot(); len(got) != 0 {
		t.Errorf("pa's Subscription was told of another patient's milestones: %v", got)
	}
}

// TestSSRFThroughRestHookEndpoints is issue #15 item 7: endpoints into the gateway's
// network or a cloud metadata service, and plain http, are refused with a 422 naming
// Subscription.channel.endpoint, before the worker could POST its handshake there.
func TestSSRFThroughRestHookEndpoints(t *testing.T) {
	g := startGateway(t)
	op := g.Client()
	for _, ep := range []string{
		"https://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/latest/meta-data/",
		"https://metadata.google.internal/computeMetadata/v1/", "https://10.1.2.3/hook", "https://192.168.0.10/",
		"https://172.20.0.1/", "https://127.0.0.2/", "https://[::1]/", "https://localhost/", "https://0.0.0.0/",
		"https://2130706433/", "https://0x7f000001/", "https://0177.0.0.1/",
		"http://hooks.example.org/fhir",
	} {
		r, err := op.Do(http.MethodPost, "Subscription", subscriptionBody(ep), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "Subscription.channel.endpoint") {
			t.Errorf("%s: %d, want 422 naming Subscription.channel.endpoint: %s", ep, r.Status, r)
		}
	}
	// nothing was stored
	r, _ := op.Do(http.MethodGet, "Subscription?_summary=count", nil, nil)
	if !strings.Contains(string(r.Body), `"total":0`) {
		t.Errorf("refused Subscriptions were stored: %s", r)
	}
}

// TestUserScopesNarrowedToFHIRUser is issue #15 item 13 (user/ scopes): a user token
// whose fhirUser is Patient/pa reads as confined to pa; a Practitioner user sees the
// patients whose CareTeam names it, and no other.
func TestUserScopesNarrowedToFHIRUser(t *testing.T) {
	g := startGateway(t)
	w := seedWorld(t, g.Client())
	if r, err := g.Client().Do(http.MethodPut, "CareTeam/tb", []byte(`{"resourceType":"CareTeam","id":"tb","subject":{"reference":"Patient/pb"},
	 "participant":[{"member":{"reference":"Practitioner/doc"}}]}`), nil); err != nil || r.Status >= 300 {
		t.Fatalf("CareTeam: %v %s", err, r)
	}
	patUser := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Patient/"+w.pa))
	for _, p := range []string{"Patient/pb", "Observation/ob"} {
		if r, _ := patUser.Do(http.MethodGet, p, nil, nil); r.Status != http.StatusForbidden {
			t.Errorf("user token of Patient/pa GET %s: %d", p, r.Status)
		}
	}
	r, _ := patUser.Do(http.MethodGet, "Observation", nil, nil)
	if got := bundleIDs(t, r); strings.Join(got, ",") != "Observation/oa" {
		t.Errorf("user token of Patient/pa searched %v", got)
	}
	doc := NewClientWith(g.BaseURL, userToken(t, g, "user/*.rs", "Practitioner/doc"))
	r, _ = doc.Do(http.MethodGet, "Observation", nil, nil)
	if got := bundleIDs(t, r); strings.Join(got, ",") != "Observation/ob" {
		t.Errorf("Practitioner/doc (care team of pb) searched %v", got)
	}
	r, _ = doc.Do(http.MethodGet, "Patient", nil, nil)
	if got := bundleIDs(t, r); strings.Join(got, ",") != "Patient/pb" {
		t.Errorf("Practitioner/doc listed patients %v", got)
	}
}
