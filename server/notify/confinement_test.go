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
// patient it can. A system token is not confined.
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
