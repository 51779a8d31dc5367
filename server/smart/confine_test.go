package smart

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
)

// confineWorld is a real rest service with two patients (a: Dupont, b: Martin), a
// Practitioner GP of b only, observations of each, an AuditEvent about a and a
// Subscription written by the client "owner".
type confineWorld struct {
	svc *rest.Service
}

func newConfineWorld(t *testing.T) *confineWorld {
	t.Helper()
	w := &confineWorld{svc: resttest.Service(t, 50)}
	put := func(typ, id, body string) {
		t.Helper()
		_, err := w.svc.Update(context.Background(), &rest.Request{Method: "PUT", Type: typ, ID: id, Body: []byte(body)})
		if err != nil {
			t.Fatalf("PUT %s/%s: %v", typ, id, err)
		}
	}
	put("Practitioner", "gp", `{"resourceType":"Practitioner","id":"gp","name":[{"family":"Généraliste"}]}`)
	put("Patient", "a", `{"resourceType":"Patient","id":"a","name":[{"family":"Dupont"}],"identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"1111"}]}`)
	put("Patient", "b", `{"resourceType":"Patient","id":"b","name":[{"family":"Martin"}],"identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"2222"}],"generalPractitioner":[{"reference":"Practitioner/gp"}]}`)
	put("Observation", "oa", `{"resourceType":"Observation","id":"oa","status":"final","code":{"text":"pain"},"subject":{"reference":"Patient/a"}}`)
	put("Observation", "ob", `{"resourceType":"Observation","id":"ob","status":"final","code":{"text":"pain"},"subject":{"reference":"Patient/b"}}`)
	put("Observation", "oab", `{"resourceType":"Observation","id":"oab","status":"final","code":{"text":"pain"},"subject":{"reference":"Patient/a"},"hasMember":[{"reference":"Observation/ob"}]}`)
	put("AuditEvent", "ae", `{"resourceType":"AuditEvent","id":"ae","type":{"code":"rest"},"action":"R","recorded":"2026-01-01T00:00:00Z","agent":[{"requestor":true,"who":{"display":"x"}}],"source":{"observer":{"display":"gw"}},"entity":[{"what":{"reference":"Patient/a"}}]}`)
	return w
}

func (w *confineWorld) search(t *testing.T, g *Grant, typ, query string) (ids []string, err error) {
	t.Helper()
	q, perr := url.ParseQuery(query)
	if perr != nil {
		t.Fatal(perr)
	}
	resp, err := w.svc.Search(context.Background(), &rest.Request{Method: "GET", Type: typ, Query: q, Op: "search-type", Access: g.Access()})
	if err != nil {
		return nil, err
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(resp.Body, &b); err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entry {
		var r struct{ ResourceType, ID string }
		json.Unmarshal(e.Resource, &r)
		if r.ResourceType != "OperationOutcome" {
			ids = append(ids, r.ResourceType+"/"+r.ID)
		}
	}
	return ids, nil
}

func forbiddenErr(err error) bool {
	fe := fhir.AsError(err)
	return err != nil && fe.Status == http.StatusForbidden
}

// TestChainRefusedWithoutTargetScope: issue 15 item 8, a system/Observation.rs token
// cannot probe Patient names through Observation?subject.family.
func TestChainRefusedWithoutTargetScope(t *testing.T) {
	w := newConfineWorld(t)
	g := grantOf(t, "system/Observation.rs", "")
	if _, err := w.search(t, g, "Observation", "subject.family=Dupont"); !forbiddenErr(err) {
		t.Errorf("chain to Patient without a Patient scope: want 403, got %v", err)
	}
	if _, err := w.search(t, g, "Observation", "subject:Patient.family=Dupont"); !forbiddenErr(err) {
		t.Errorf("typed chain: want 403, got %v", err)
	}
	// with the target's scope the chain works
	g2 := grantOf(t, "system/Observation.rs system/Patient.rs", "")
	ids, err := w.search(t, g2, "Observation", "subject.family=Dupont")
	if err != nil || strings.Join(ids, ",") != "Observation/oa,Observation/oab" {
		t.Errorf("allowed chain: %v %v", ids, err)
	}
}

// TestChainConfinedToCompartment: a patient token's chain sees only its own Patient.
func TestChainConfinedToCompartment(t *testing.T) {
	w := newConfineWorld(t)
	g := grantOf(t, "patient/*.rs", "a")
	// Observation oab (a's) has a member ob (b's): the chain must not look at b
	ids, err := w.search(t, g, "Observation", "has-member.status=final")
	if err != nil || len(ids) != 0 {
		t.Errorf("chain through another patient's Observation: %v %v", ids, err)
	}
}

// TestHasAuditEventNeedsScope: issue 15 item 8, Patient?_has:AuditEvent:entity:action=R
// answers nothing without an AuditEvent scope.
func TestHasAuditEventNeedsScope(t *testing.T) {
	w := newConfineWorld(t)
	for _, scope := range []string{"patient/*.rs", "system/*.rs", "system/Patient.rs"} {
		g := grantOf(t, scope, map[bool]string{true: "a"}[strings.HasPrefix(scope, "patient")])
		if _, err := w.search(t, g, "Patient", "_has:AuditEvent:entity:action=R"); !forbiddenErr(err) {
			t.Errorf("%s: _has on AuditEvent: want 403, got %v", scope, err)
		}
	}
	g := grantOf(t, "system/Patient.rs system/AuditEvent.rs", "")
	if ids, err := w.search(t, g, "Patient", "_has:AuditEvent:entity:action=R"); err != nil || len(ids) != 1 {
		t.Errorf("with the audit scope: %v %v", ids, err)
	}
}

// TestHasINSOracle: issue 15 item 8, a patient token cannot test whether an INS is
// known through Practitioner?_has:Patient:general-practitioner:identifier=.
func TestHasINSOracle(t *testing.T) {
	w := newConfineWorld(t)
	g := grantOf(t, "patient/*.rs", "a")
	ids, err := w.search(t, g, "Practitioner", "_has:Patient:general-practitioner:identifier=urn:oid:1.2.250.1.213.1.4.8|2222")
	if err != nil || len(ids) != 0 {
		t.Errorf("another patient's INS answered: %v %v", ids, err)
	}
	// b's own token finds its GP the same way
	ids, err = w.search(t, grantOf(t, "patient/*.rs", "b"), "Practitioner", "_has:Patient:general-practitioner:identifier=urn:oid:1.2.250.1.213.1.4.8|2222")
	if err != nil || len(ids) != 1 {
		t.Errorf("own INS: %v %v", ids, err)
	}
}

// TestIncludeIterateConfined: _include and :iterate never walk through another
// patient's resources.
func TestIncludeIterateConfined(t *testing.T) {
	w := newConfineWorld(t)
	g := grantOf(t, "patient/*.rs", "a")
	ids, err := w.search(t, g, "Observation", "_id=oab&_include=Observation:has-member&_include:iterate=Observation:subject&_include:iterate=Patient:general-practitioner")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if id == "Observation/ob" || id == "Patient/b" || id == "Practitioner/gp" {
			t.Errorf("include reached %s through another patient: %v", id, ids)
		}
	}
	ids, err = w.search(t, g, "Patient", "_id=a&_revinclude=AuditEvent:entity")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if strings.HasPrefix(id, "AuditEvent/") {
			t.Errorf("_revinclude of AuditEvent without its scope: %v", ids)
		}
	}
}

// TestUserScopeOfPatientUser: issue 15 item 13, a user/ token whose fhirUser is
// Patient/a behaves as confined to a.
func TestUserScopeOfPatientUser(t *testing.T) {
	w := newConfineWorld(t)
	g := grantOf(t, "user/*.rs", "")
	g.FHIRUser = "Patient/a"
	ids, err := w.search(t, g, "Observation", "status=final")
	if err != nil || strings.Join(ids, ",") != "Observation/oa,Observation/oab" {
		t.Errorf("user token of Patient/a searched %v %v", ids, err)
	}
	_, err = w.svc.Read(context.Background(), &rest.Request{Method: "GET", Type: "Patient", ID: "b", Access: g.Access()})
	if !forbiddenErr(err) {
		t.Errorf("user token of Patient/a read Patient/b: %v", err)
	}
}

// TestUserScopeOfPractitioner: a Practitioner user sees the patients whose CareTeam
// names it, and no other; a user token without fhirUser sees no patient.
func TestUserScopeOfPractitioner(t *testing.T) {
	w := newConfineWorld(t)
	_, err := w.svc.Update(context.Background(), &rest.Request{Method: "PUT", Type: "CareTeam", ID: "t", Body: []byte(
		`{"resourceType":"CareTeam","id":"t","subject":{"reference":"Patient/b"},"participant":[{"member":{"reference":"Practitioner/gp"}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	g := grantOf(t, "user/*.rs", "")
	g.FHIRUser = "Practitioner/gp"
	ids, err := w.search(t, g, "Observation", "status=final")
	if err != nil || strings.Join(ids, ",") != "Observation/ob" {
		t.Errorf("Practitioner/gp searched %v %v", ids, err)
	}
	anon := grantOf(t, "user/*.rs", "")
	if ids, err := w.search(t, anon, "Patient", ""); err != nil || len(ids) != 0 {
		t.Errorf("user token without fhirUser saw %v %v", ids, err)
	}
	// a system scope is not narrowed
	if ids, err := w.search(t, grantOf(t, "system/*.rs", ""), "Observation", "status=final"); err != nil || len(ids) != 3 {
		t.Errorf("system token: %v %v", ids, err)
	}
}

// subscriptionJSON is a rest-hook Subscription with a secret header and the filters.
func subscriptionJSON(filters ...string) []byte {
	ext := ""
	for i, f := range filters {
		if i > 0 {
			ext += ","
		}
		ext += `{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria","valueString":"` + f + `"}`
	}
	crit := ""
	if ext != "" {
		crit = `"_criteria":{"extension":[` + ext + `]},`
	}
	return []byte(`{"resourceType":"Subscription","status":"requested","reason":"r",` + crit + `
	 "criteria":"https://aitgw.org/fhir/SubscriptionTopic/milestone",
	 "channel":{"type":"rest-hook","endpoint":"https://hooks.example.org/h","payload":"application/fhir+json","header":["Authorization: Bearer s3cret"]}}`)
}

// TestSubscriptionVisibleToOwnerOnly: issue 15 item 3, a patient/*.rs token of
// another client (or of another patient of the same app) does not see a
// Subscription, through read, search, history or vread; a system token sees it
// without channel.header; its owner sees it whole.
func TestSubscriptionVisibleToOwnerOnly(t *testing.T) {
	w := newConfineWorld(t)
	owner := grantOf(t, "patient/*.cruds", "a")
	owner.ClientID = "app"
	resp, err := w.svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Subscription",
		Body: subscriptionJSON("Communication?patient=Patient/a"), Access: owner.Access()})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Record.ID
	other := grantOf(t, "patient/*.rs", "b")
	other.ClientID = "app" // same app, another patient
	stranger := grantOf(t, "patient/*.rs", "a")
	stranger.ClientID = "other-app"
	for name, g := range map[string]*Grant{"other patient": other, "other client": stranger} {
		if _, err := w.svc.Read(context.Background(), &rest.Request{Method: "GET", Type: "Subscription", ID: id, Access: g.Access()}); !forbiddenErr(err) {
			t.Errorf("%s read the Subscription: %v", name, err)
		}
		if ids, err := w.search(t, g, "Subscription", ""); err != nil || len(ids) != 0 {
			t.Errorf("%s searched %v %v", name, ids, err)
		}
		resp, err := w.svc.History(context.Background(), &rest.Request{Method: "GET", Type: "Subscription", Query: url.Values{}, Access: g.Access()})
		if err != nil || strings.Contains(string(resp.Body), "s3cret") || strings.Contains(string(resp.Body), `"Subscription"`) {
			t.Errorf("%s type history: %v %s", name, err, resp.Body)
		}
		if _, err := w.svc.VRead(context.Background(), &rest.Request{Method: "GET", Type: "Subscription", ID: id, Version: "1", Access: g.Access()}); !forbiddenErr(err) {
			t.Errorf("%s vread the Subscription: %v", name, err)
		}
	}
	sys := grantOf(t, "system/*.rs", "")
	sys.ClientID = "hub"
	got, err := w.svc.Read(context.Background(), &rest.Request{Method: "GET", Type: "Subscription", ID: id, Access: sys.Access()})
	if err != nil || strings.Contains(string(got.Body), "s3cret") || !strings.Contains(string(got.Body), "REDACTED") {
		t.Errorf("system read: %v %s", err, got.Body)
	}
	hist, err := w.svc.History(context.Background(), &rest.Request{Method: "GET", Type: "Subscription", ID: id, Query: url.Values{}, Access: sys.Access()})
	if err != nil || strings.Contains(string(hist.Body), "s3cret") {
		t.Errorf("system history: %v %s", err, hist.Body)
	}
	found, err := w.svc.Search(context.Background(), &rest.Request{Method: "GET", Type: "Subscription", Query: url.Values{}, Access: sys.Access()})
	if err != nil || strings.Contains(string(found.Body), "s3cret") || !strings.Contains(string(found.Body), id) {
		t.Errorf("system search: %v %s", err, found.Body)
	}
	mine, err := w.svc.Read(context.Background(), &rest.Request{Method: "GET", Type: "Subscription", ID: id, Access: owner.Access()})
	if err != nil || !strings.Contains(string(mine.Body), "s3cret") {
		t.Errorf("owner read: %v", err)
	}
}

// TestConditionalCriteriaNoOracle: a confined client's conditional criteria (a
// transaction's conditional reference, If-None-Exist) see only what its searches see:
// another patient's INS matches nothing, and a chain to a type it may not search is
// refused.
func TestConditionalCriteriaNoOracle(t *testing.T) {
	w := newConfineWorld(t)
	g := grantOf(t, "patient/*.cruds", "a")
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
	 "subject":{"reference":"Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|2222"}},"request":{"method":"POST","url":"Observation"}}]}`
	_, err := w.svc.Bundle(context.Background(), &rest.Request{Method: "POST", Body: []byte(tx), Access: g.Access()}, "")
	if fe := fhir.AsError(err); err == nil || fe.Status != http.StatusPreconditionFailed {
		t.Errorf("conditional reference to another patient's INS: want 412 (no match), got %v", err)
	}
	// If-None-Exist naming another patient's Observation creates, and reveals nothing
	resp, err := w.svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Observation", IfNoneExist: "_id=ob",
		Body: []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/a"}}`), Access: g.Access()})
	if err != nil || resp.Status != http.StatusCreated {
		t.Errorf("If-None-Exist on another patient's resource: %v %v", resp, err)
	}
	obsOnly := grantOf(t, "system/Observation.cruds", "")
	_, err = w.svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Observation", IfNoneExist: "subject.family=Martin",
		Body: []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"}}`), Access: obsOnly.Access()})
	if !forbiddenErr(err) {
		t.Errorf("If-None-Exist chaining into Patient without its scope: %v", err)
	}
}

// TestIsConfined: operations spanning patients ask rest.IsConfined, which a user/
// grant answers like a patient/ one.
func TestIsConfined(t *testing.T) {
	for _, c := range []struct {
		scope, patient string
		want           bool
	}{
		{"patient/*.rs", "a", true},
		{"user/*.rs", "", true},
		{"system/*.rs", "", false},
		{"user/*.rs system/Communication.rs", "", false},
		{"user/Patient.rs system/Communication.rs", "", false},
	} {
		if got := rest.IsConfined(grantOf(t, c.scope, c.patient).Access(), "operation", "Communication"); got != c.want {
			t.Errorf("%s: confined %v, want %v", c.scope, got, c.want)
		}
	}
}

// TestPatchDoesNotRevealSecret: a system client patching another client's
// Subscription does not get its channel.header back.
func TestPatchDoesNotRevealSecret(t *testing.T) {
	w := newConfineWorld(t)
	owner := grantOf(t, "patient/*.cruds", "a")
	owner.ClientID = "app"
	resp, err := w.svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Subscription",
		Body: subscriptionJSON("Communication?patient=Patient/a"), Access: owner.Access()})
	if err != nil {
		t.Fatal(err)
	}
	sys := grantOf(t, "system/*.cruds", "")
	sys.ClientID = "hub"
	got, err := w.svc.Patch(context.Background(), &rest.Request{Method: "PATCH", Type: "Subscription", ID: resp.Record.ID,
		Body: []byte(`[{"op":"replace","path":"/reason","value":"changed"}]`), Access: sys.Access()})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got.Body), "s3cret") || strings.Contains(string(got.Record.Body), "s3cret") {
		t.Errorf("patch response shows the owner's secret: %s", got.Body)
	}
}

// TestMiddlewareRefusesPatientUserOtherPatient: the path check already refuses a
// Patient user's user/ token another Patient resource.
func TestMiddlewareRefusesPatientUserOtherPatient(t *testing.T) {
	g := grantOf(t, "user/*.rs", "")
	g.FHIRUser = "Patient/a"
	if err := CheckAccess(g, Classify("GET", "/Patient/b")); err == nil || err.Status != http.StatusForbidden {
		t.Errorf("Patient/b: %v", err)
	}
	if err := CheckAccess(g, Classify("GET", "/Patient/a")); err != nil {
		t.Errorf("Patient/a: %v", err)
	}
	doc := grantOf(t, "user/*.rs", "")
	doc.FHIRUser = "Practitioner/x"
	if err := CheckAccess(doc, Classify("GET", "/Patient/b")); err != nil {
		t.Errorf("a Practitioner is checked where the data is read, not by path: %v", err)
	}
}

// TestEndpointHeaderOwnerOnly: an Endpoint's header is returned to the client that
// wrote it only.
func TestEndpointHeaderOwnerOnly(t *testing.T) {
	w := newConfineWorld(t)
	owner := grantOf(t, "system/*.cruds", "")
	owner.ClientID = "hub"
	resp, err := w.svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Endpoint", Access: owner.Access(), Body: []byte(
		`{"resourceType":"Endpoint","status":"active","connectionType":{"code":"hl7-fhir-rest"},"payloadType":[{"text":"any"}],"address":"https://hub.example.org/fhir","header":["Authorization: Bearer hub-s3cret"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	other := grantOf(t, "system/*.rs", "")
	other.ClientID = "app"
	got, err := w.svc.Read(context.Background(), &rest.Request{Method: "GET", Type: "Endpoint", ID: resp.Record.ID, Access: other.Access()})
	if err != nil || strings.Contains(string(got.Body), "hub-s3cret") || !strings.Contains(string(got.Body), "hub.example.org") {
		t.Errorf("another client's read: %v %s", err, got.Body)
	}
	mine, err := w.svc.Read(context.Background(), &rest.Request{Method: "GET", Type: "Endpoint", ID: resp.Record.ID, Access: owner.Access()})
	if err != nil || !strings.Contains(string(mine.Body), "hub-s3cret") {
		t.Errorf("owner's read: %v", err)
	}
}
