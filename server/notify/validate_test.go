package notify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

func TestValidateSubscription(t *testing.T) {
	good := subscriptionJSON("s", "https://gp.example/hook", PayloadIDOnly, "Communication?patient=Patient/1", 60)
	if err := ValidateSubscription([]byte(good)); err != nil {
		t.Fatalf("valid subscription refused: %v", err)
	}
	cases := []struct{ from, to, expr string }{
		{TopicAllMilestones, "http://other/topic", "Subscription.criteria"},
		{`"type":"rest-hook"`, `"type":"websocket"`, "Subscription.channel.type"},
		{"https://gp.example/hook", "/relative", "Subscription.channel.endpoint"},
		{`"valueCode":"id-only"`, `"valueCode":"everything"`, "Subscription.channel.payload"},
		{"Communication?patient", "Patient?_id", "Subscription.criteria.extension"},
		{"Authorization: Bearer", "NoColon", "Subscription.channel.header[0]"},
	}
	for _, c := range cases {
		bad := strings.Replace(good, c.from, c.to, 1)
		err := ValidateSubscription([]byte(bad))
		if err == nil || !strings.HasPrefix(err.Outcome.Issue[0].Expression[0], c.expr) {
			t.Errorf("%s → %s: %v", c.from, c.to, err)
		}
	}
}

// Through the REST interactions, an unservable Subscription is refused with its
// OperationOutcome and nothing is stored.
func TestSubscriptionHookRefusesWrite(t *testing.T) {
	e := newEnv(t)
	bad := strings.Replace(subscriptionJSON("s", "https://gp.example/hook", PayloadIDOnly, "Communication?patient=Patient/1", 0),
		TopicAllMilestones, "http://other/topic", 1)
	_, err := e.svc.Update(context.Background(), &rest.Request{Method: "PUT", Type: "Subscription", ID: "s", Body: []byte(bad)})
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != 422 || fe.Outcome.Issue[0].Expression[0] != "Subscription.criteria" {
		t.Fatalf("refusal: %v", err)
	}
	if ids := e.match("Subscription", "_id=s"); len(ids) != 0 {
		t.Errorf("refused Subscription stored: %v", ids)
	}
}
