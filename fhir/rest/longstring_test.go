package rest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Finding #15.11: an indexed string of 32,768 characters or more answered 500 on
// bbolt (key too large). It is stored, and search on it stays exact.
func TestLongIndexedStringIsStoredAndSearchedExactly(t *testing.T) {
	s := newService(t)
	long := strings.Repeat("a", 40000) + "Tail"
	other := strings.Repeat("a", 40000) + "Else"
	p := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient",
		Body: []byte(`{"resourceType":"Patient","name":[{"family":"` + long + `"}]}`)}))
	expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient",
		Body: []byte(`{"resourceType":"Patient","name":[{"family":"` + other + `"}]}`)}))
	expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("short")}))
	search := func(param, value string) []string {
		t.Helper()
		resp := expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{param: {value}}}))
		var b fhir.Bundle
		json.Unmarshal(resp.Body, &b)
		var ids []string
		for _, e := range b.Entry {
			var r struct{ ID string }
			json.Unmarshal(e.Resource, &r)
			ids = append(ids, r.ID)
		}
		return ids
	}
	for _, c := range []struct {
		param, value string
		want         int
	}{
		{"family:exact", long, 1},
		{"family", long, 1},                      // starts-with, the whole value
		{"family", strings.Repeat("a", 2000), 2}, // starts-with past the capped prefix
		{"family", strings.Repeat("a", 100), 2},  // starts-with within it
		{"family:contains", "aTail", 1},          // beyond the capped prefix
		{"family:exact", long[:len(long)-1], 0},  // a prefix is not exact
		{"family:exact", strings.Repeat("a", 1024), 0},
	} {
		ids := search(c.param, c.value)
		if len(ids) != c.want {
			t.Errorf("%s=<%d chars …%s>: %d matches, want %d", c.param, len(c.value), c.value[max(0, len(c.value)-5):], len(ids), c.want)
		}
		if c.want == 1 && len(ids) == 1 && ids[0] != p.Record.ID {
			t.Errorf("%s matched %s", c.param, ids[0])
		}
	}
}
