package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// ValidateSubscription checks what the gateway needs of a Subscription before it is
// stored (R4 Backport IG 1.1): a supported topic in criteria, a rest-hook channel to
// an absolute http(s) endpoint, a known payload content, filters on Communication.
// Errors name the element at fault.
func ValidateSubscription(body []byte) *fhir.Error {
	s, err := parseSubscription("", body)
	if err != nil {
		return fhir.Errorf(http.StatusBadRequest, "structure", "Subscription", "unreadable Subscription: %v", err)
	}
	if !contains(TopicCanonicals(), s.Topic) {
		return fhir.Errorf(http.StatusUnprocessableEntity, "not-supported", "Subscription.criteria",
			"criteria must be a supported SubscriptionTopic canonical (see the CapabilityStatement), not %q", s.Topic)
	}
	if s.Type != "rest-hook" {
		return fhir.Errorf(http.StatusUnprocessableEntity, "not-supported", "Subscription.channel.type",
			"channel type %q is not supported: use rest-hook (letters go by secure mail to the recipient's telecom)", s.Type)
	}
	if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fhir.Errorf(http.StatusUnprocessableEntity, "value", "Subscription.channel.endpoint", "endpoint must be an absolute http(s) URL")
	}
	switch s.Content {
	case PayloadEmpty, PayloadIDOnly, PayloadFullResource:
	default:
		return fhir.Errorf(http.StatusUnprocessableEntity, "value", "Subscription.channel.payload.extension('"+extPayloadContent+"')",
			"payload content must be empty, id-only or full-resource, not %q", s.Content)
	}
	for i, f := range s.Filters {
		if typ, q, _ := strings.Cut(f, "?"); typ != "Communication" || q == "" {
			return fhir.Errorf(http.StatusUnprocessableEntity, "value",
				fmt.Sprintf("Subscription.criteria.extension('%s')[%d]", extFilterCriteria, i),
				"filter criteria must be a Communication search, e.g. Communication?patient=Patient/1")
		}
	}
	for i, h := range s.Headers {
		if k, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(h, "\r\n") {
			return fhir.Errorf(http.StatusUnprocessableEntity, "value", fmt.Sprintf("Subscription.channel.header[%d]", i),
				"a header must read \"Name: value\"")
		}
	}
	return nil
}

// SubscriptionHook refuses, inside the write's transaction, a Subscription the
// gateway could not serve. Wire it among the rest.Service hooks.
type SubscriptionHook struct{}

// AfterWrite validates a written Subscription; other resources pass.
func (SubscriptionHook) AfterWrite(_ context.Context, _ *rest.Writer, rec *fhir.Record) error {
	if rec.Type != "Subscription" || rec.Deleted {
		return nil
	}
	if err := ValidateSubscription(rec.Body); err != nil {
		return err
	}
	return nil
}
