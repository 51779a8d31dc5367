package binary

import (
	"context"
	"net/http"
	"testing"

	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
)

// TestConfine: a patient-context reader reads the Binaries of its patient only, never
// another's, an unknown one or one without securityContext, and cannot search.
func TestConfine(t *testing.T) {
	ctx := context.Background()
	svc := resttest.Service(t, 20)
	put := func(id, body string) {
		if _, err := svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "Binary", ID: id, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put("mine", `{"resourceType":"Binary","id":"mine","contentType":"text/plain","securityContext":{"reference":"Patient/a"},"data":"eA=="}`)
	put("theirs", `{"resourceType":"Binary","id":"theirs","contentType":"text/plain","securityContext":{"reference":"Patient/b"},"data":"eA=="}`)
	put("nobody", `{"resourceType":"Binary","id":"nobody","contentType":"text/plain","data":"eA=="}`)
	for _, tc := range []struct {
		op, id string
		ok     bool
	}{
		{"read", "mine", true}, {"vread", "mine", true}, {"read", "theirs", false}, {"read", "nobody", false},
		{"read", "unknown", false}, {"search-type", "", false}, {"history-type", "", false},
	} {
		err := Confine(ctx, svc.Store, tc.op, tc.id, "a")
		if (err == nil) != tc.ok || (err != nil && err.Status != http.StatusForbidden) {
			t.Errorf("%s %s: %v, want allowed=%v", tc.op, tc.id, err, tc.ok)
		}
	}
}
