package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// stampLanguage is a PreStoreHook that completes every Patient with a language and
// refuses a Patient named "Refused"; its AfterWrite records what it saw stored.
type stampLanguage struct{ seen []string }

func (h *stampLanguage) BeforeStore(_ *rest.Writer, typ, _ string, body []byte) ([]byte, error) {
	if typ != "Patient" {
		return body, nil
	}
	if strings.Contains(string(body), `"Refused"`) {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "Patient.name", "refused before storage")
	}
	return fhir.SetMembers(body, []fhir.Member{{Key: "language", Value: "fr"}})
}

func (h *stampLanguage) AfterWrite(_ context.Context, _ *rest.Writer, rec *fhir.Record) error {
	h.seen = append(h.seen, string(rec.Body))
	return nil
}

// TestPreStoreHookCompletesTheClientsVersion: what a PreStoreHook adds is part of the
// version the client wrote, on create, update with If-Match, patch and in a
// transaction: one version per write, the If-Match precondition unchanged, the
// AfterWrite hooks see the completed body, and a refusal writes nothing.
func TestPreStoreHookCompletesTheClientsVersion(t *testing.T) {
	s := newService(t)
	h := &stampLanguage{}
	s.Hooks = []rest.WriteHook{h}
	hasLanguage := func(what string, r *rest.Response, version int64) {
		t.Helper()
		if !strings.Contains(string(r.Record.Body), `"language":"fr"`) || r.Record.Version != version {
			t.Errorf("%s: version %d (want %d): %s", what, r.Record.Version, version, r.Record.Body)
		}
		stored := expect(t, http.StatusOK)(s.Read(ctx, &rest.Request{Type: "Patient", ID: r.Record.ID}))
		if string(stored.Record.Body) != string(r.Record.Body) {
			t.Errorf("%s: stored %s, answered %s", what, stored.Record.Body, r.Record.Body)
		}
	}
	c := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("p1")}))
	hasLanguage("create", c, 1)
	if n := len(h.seen); n != 1 || !strings.Contains(h.seen[0], `"language":"fr"`) {
		t.Errorf("AfterWrite saw %d writes: %v", n, h.seen)
	}
	body := strings.Replace(string(patient("p1")), `{"resourceType":"Patient"`, `{"resourceType":"Patient","id":"`+c.Record.ID+`"`, 1)
	u := expect(t, http.StatusOK)(s.Update(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID, Body: []byte(body), IfMatch: `W/"1"`}))
	hasLanguage("update", u, 2)
	_, err := s.Update(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID, Body: []byte(body), IfMatch: `W/"1"`})
	mustFail(t, err, http.StatusPreconditionFailed, "conflict")
	p := expect(t, http.StatusOK)(s.Patch(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID,
		Body: []byte(`[{"op":"remove","path":"/language"}]`)}))
	hasLanguage("patch", p, 3)

	tx := expect(t, http.StatusOK)(s.Bundle(ctx, &rest.Request{Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Patient","name":[{"family":"InTx"}]},"request":{"method":"POST","url":"Patient"}}]}`)}, ""))
	var b fhir.Bundle
	if err := json.Unmarshal(tx.Body, &b); err != nil || len(b.Entry) != 1 {
		t.Fatalf("transaction: %v %s", err, tx.Body)
	}
	id := strings.Split(b.Entry[0].Response.Location, "/")[1]
	r := expect(t, http.StatusOK)(s.Read(ctx, &rest.Request{Type: "Patient", ID: id}))
	hasLanguage("transaction", r, 1)

	_, err = s.Bundle(ctx, &rest.Request{Body: []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Patient","name":[{"family":"Kept"}]},"request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Patient","name":[{"family":"Refused"}]},"request":{"method":"POST","url":"Patient"}}]}`)}, "")
	mustFail(t, err, http.StatusUnprocessableEntity, "business-rule")
	if ids, _ := matchAll(t, s, "Patient"); len(ids) != 2 {
		t.Errorf("a refused transaction left %d patients, want the 2 before it", len(ids))
	}
}
