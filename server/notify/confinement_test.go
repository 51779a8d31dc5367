package notify

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
	"github.com/aitgw/aitgw/server/smart"
)

func subscriptionWith(endpoint string, filters ...string) []byte {
	var ext []string
	for _, f := range filters {
		ext = append(ext, `{"url":"`+extFilterCriteria+`","valueString":"`+f+`"}`)
	}
	crit := ""
	if len(ext) > 0 {
		crit = `"_criteria":{"extension":[` + strings.Join(ext, ",") + `]},`
	}
	return []byte(`{"resourceType":"Subscription","status":"requested","reason":"r",` + crit + `
	 "criteria":"` + TopicAllMilestones + `",
	 "channel":{"type":"rest-hook","endpoint":"` + endpoint + `","payload":"application/fhir+json",
	  "_payload":{"extension":[{"url":"` + extPayloadContent + `","valueCode":"full-resource"}]}}}`)
}

func grant(t *testing.T, scope, patient, user string) rest.Access {
	t.Helper()
	rs, other, err := smart.ParseScopes(scope)
	if err != nil {
		t.Fatal(err)
	}
	return (&smart.Grant{ClientID: "app", Scopes: rs, Other: other, Patient: patient, FHIRUser: user}).Access()
}

// TestPatientSubscriptionNeedsItsPatientFilter: issue 15 item 3, a patient/*.cruds
// token cannot create an unfiltered full-resource Subscription (it received other
// patients' letters), nor one filtered on another patient; filtered on its own
// patient it can, and an unfiltered id-only one is held to its patient. A system
// token is not confined.
func TestPatientSubscriptionNeedsItsPatientFilter(t *testing.T) {
	svc := resttest.Service(t, 10)
	svc.Hooks = []rest.WriteHook{SubscriptionHook{}, EgressHook{Egress: &Egress{}}, SubscriptionConfinement{}}
	create := func(a rest.Access, body []byte) error {
		_, err := svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Subscription", Body: body, Access: a})
		return err
	}
	pat := grant(t, "patient/*.cruds", "a", "")
	for name, body := range map[string][]byte{
		"unfiltered":       subscriptionWith("https://hooks.example.org/h"),
		"another patient":  subscriptionWith("https://hooks.example.org/h", "Communication?patient=Patient/b"),
		"two patients":     subscriptionWith("https://hooks.example.org/h", "Communication?patient=Patient/a,Patient/b"),
		"not on a patient": subscriptionWith("https://hooks.example.org/h", "Communication?status=completed"),
	} {
		err := create(pat, body)
		if fe := fhir.AsError(err); err == nil || fe.Status != http.StatusUnprocessableEntity || !strings.Contains(string(fe.Outcome.JSON()), "backport-filter-criteria") {
			t.Errorf("%s: want 422 naming the filter criteria, got %v", name, err)
		}
	}
	if err := create(pat, subscriptionWith("https://hooks.example.org/h", "Communication?patient=Patient/a")); err != nil {
		t.Errorf("filtered on its patient: %v", err)
	}
	// an id-only one without a filter is accepted: the gateway holds it to patient a
	idOnly := strings.Replace(string(subscriptionWith("https://hooks.example.org/h")), `"valueCode":"full-resource"`, `"valueCode":"id-only"`, 1)
	resp, err := svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Subscription", Body: []byte(idOnly), Access: pat})
	if err != nil {
		t.Fatalf("unfiltered id-only: %v", err)
	}
	var held []byte
	svc.Store.View(context.Background(), func(tx fhir.Tx) error { held, _ = tx.GetAux(auxConfinedTo, resp.Record.ID); return nil })
	if string(held) != `["a"]` {
		t.Errorf("unfiltered id-only Subscription held to %q, want [\"a\"]", held)
	}
	// a user token of Patient/a is confined the same way
	if err := create(grant(t, "user/*.cruds", "", "Patient/a"), subscriptionWith("https://hooks.example.org/h")); err == nil {
		t.Error("user token of Patient/a created an unfiltered Subscription")
	}
	// without Communication rights a Subscription is refused outright
	if err := create(grant(t, "system/Subscription.cruds", "", ""), subscriptionWith("https://hooks.example.org/h")); fhir.AsError(err) == nil || fhir.AsError(err).Status != http.StatusForbidden {
		t.Errorf("Subscription without Communication rights: %v", err)
	}
	if err := create(grant(t, "system/*.cruds", "", ""), subscriptionWith("https://hooks.example.org/h")); err != nil {
		t.Errorf("system token: %v", err)
	}
}

// TestSubscriptionEndpointRefusedAtCreate: issue 15 item 7, the SSRF endpoints are
// refused with a 422 naming Subscription.channel.endpoint, for any writer.
func TestSubscriptionEndpointRefusedAtCreate(t *testing.T) {
	svc := resttest.Service(t, 10)
	svc.Hooks = []rest.WriteHook{SubscriptionHook{}, EgressHook{Egress: &Egress{}}}
	for _, ep := range []string{"https://169.254.169.254/", "http://hooks.example.org/", "https://2130706433/", "https://[fd00:ec2::254]/", "https://metadata.google.internal/"} {
		_, err := svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Subscription", Body: subscriptionWith(ep)})
		fe := fhir.AsError(err)
		if err == nil || fe.Status != http.StatusUnprocessableEntity || len(fe.Outcome.Issue) == 0 || len(fe.Outcome.Issue[0].Expression) == 0 || fe.Outcome.Issue[0].Expression[0] != "Subscription.channel.endpoint" {
			t.Errorf("%s: want 422 on Subscription.channel.endpoint, got %v", ep, err)
		}
	}
}

// TestConfinedSubscriptionNeverToldOfOtherPatients: issue 15 item 3, a Subscription a
// confined client wrote is matched only against its patients at each milestone, even
// if its filters were to let another patient's Communication through.
func TestConfinedSubscriptionNeverToldOfOtherPatients(t *testing.T) {
	e := newEnv(t)
	e.put(subscriptionJSON("open", "https://hooks.example.org/a", PayloadFullResource, "Communication?patient=Patient/p1", 0))
	e.put(subscriptionJSON("confined", "https://hooks.example.org/b", PayloadFullResource, "Communication?patient=Patient/p1", 0))
	// as SubscriptionConfinement records it for a client confined to patient "a"
	if err := e.store.Update(context.Background(), func(tx fhir.Tx) error {
		return tx.PutAux(auxConfinedTo, "confined", []byte(`["a"]`))
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.milestone(refill(0)); err != nil { // about Patient/p1
		t.Fatal(err)
	}
	counts := map[string]int64{}
	e.store.View(context.Background(), func(tx fhir.Tx) error {
		for _, id := range []string{"open", "confined"} {
			counts[id], _ = eventCount(tx, id)
		}
		return nil
	})
	if counts["open"] == 0 {
		t.Fatal("the unconfined Subscription was told nothing: the test proves nothing")
	}
	if counts["confined"] != 0 {
		t.Errorf("the Subscription confined to patient a was told %d events about Patient/p1", counts["confined"])
	}
}

// TestSubscriptionConfinementRecorded: the patients a confined client's Subscription
// is held to are recorded with it, and a system client's rewrite lifts them.
func TestSubscriptionConfinementRecorded(t *testing.T) {
	svc := resttest.Service(t, 10)
	svc.Hooks = []rest.WriteHook{SubscriptionHook{}, SubscriptionConfinement{}}
	resp, err := svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Subscription",
		Body: subscriptionWith("https://hooks.example.org/h", "Communication?patient=Patient/a"), Access: grant(t, "patient/*.cruds", "a", "")})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Record.ID
	aux := func() string {
		var raw []byte
		svc.Store.View(context.Background(), func(tx fhir.Tx) error { raw, _ = tx.GetAux(auxConfinedTo, id); return nil })
		return string(raw)
	}
	if got := aux(); got != `["a"]` {
		t.Errorf("recorded confinement %q", got)
	}
	body := strings.Replace(string(subscriptionWith("https://hooks.example.org/h", "Communication?patient=Patient/a")), `{"resourceType":"Subscription",`, `{"resourceType":"Subscription","id":"`+id+`",`, 1)
	if _, err := svc.Update(context.Background(), &rest.Request{Method: "PUT", Type: "Subscription", ID: id, Body: []byte(body), Access: grant(t, "system/*.cruds", "", "")}); err != nil {
		t.Fatal(err)
	}
	if got := aux(); got != "" {
		t.Errorf("after a system rewrite: %q", got)
	}
}
