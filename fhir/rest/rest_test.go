package rest_test

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

const base = resttest.Base

func newService(t testing.TB) *rest.Service { return resttest.Service(t, 2) }

var ctx = context.Background()

// expect returns a checker of an interaction's result: it must succeed with status.
func expect(t *testing.T, status int) func(*rest.Response, error) *rest.Response {
	return func(resp *rest.Response, err error) *rest.Response {
		t.Helper()
		return mustStatus(t, resp, err, status)
	}
}

func mustStatus(t *testing.T, resp *rest.Response, err error, status int) *rest.Response {
	t.Helper()
	if err != nil {
		fe := fhir.AsError(err)
		t.Fatalf("want %d, got error %d %s", status, fe.Status, fe.Outcome.JSON())
	}
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
	return resp
}

func mustFail(t *testing.T, err error, status int, code string) *fhir.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got success", status, code)
	}
	fe := fhir.AsError(err)
	if fe.Status != status || fe.Outcome.Issue[0].Code != code {
		t.Fatalf("got %d %s, want %d %s", fe.Status, fe.Outcome.JSON(), status, code)
	}
	return fe
}

func patient(ident string) []byte {
	return []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"` + ident + `"}],"name":[{"family":"Test"}]}`)
}

func TestCreateReadVReadUpdateDelete(t *testing.T) {
	s := newService(t)
	c := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("1")}))
	id := c.Record.ID
	if c.Location != "Patient/"+id+"/_history/1" || c.ETag() != `W/"1"` {
		t.Fatalf("location %q etag %q", c.Location, c.ETag())
	}
	r := expect(t, http.StatusOK)(s.Read(ctx, &rest.Request{Type: "Patient", ID: id}))
	if !strings.Contains(string(r.Body), `"identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"1"}]`) {
		t.Fatalf("read body %s", r.Body)
	}
	upd := []byte(strings.Replace(string(patient("1")), `{"resourceType":"Patient",`, `{"resourceType":"Patient","id":"`+id+`",`, 1))
	expect(t, http.StatusOK)(s.Update(ctx, &rest.Request{Type: "Patient", ID: id, Body: upd, IfMatch: `W/"1"`}))
	_, err := s.Update(ctx, &rest.Request{Type: "Patient", ID: id, Body: upd, IfMatch: `W/"1"`})
	mustFail(t, err, http.StatusPreconditionFailed, "conflict")
	expect(t, http.StatusOK)(s.VRead(ctx, &rest.Request{Type: "Patient", ID: id, Version: "1"}))
	expect(t, http.StatusNoContent)(s.Delete(ctx, &rest.Request{Type: "Patient", ID: id}))
	_, err = s.Read(ctx, &rest.Request{Type: "Patient", ID: id})
	mustFail(t, err, http.StatusGone, "deleted")
	_, err = s.Read(ctx, &rest.Request{Type: "Patient", ID: "nope"})
	mustFail(t, err, http.StatusNotFound, "not-found")
	h := expect(t, http.StatusOK)(s.History(ctx, &rest.Request{Type: "Patient", ID: id, Query: url.Values{"_count": {"10"}}}))
	var b fhir.Bundle
	json.Unmarshal(h.Body, &b)
	if len(b.Entry) != 3 || b.Entry[0].Request.Method != "DELETE" || b.Entry[2].Request.Method != "POST" {
		t.Fatalf("history %s", h.Body)
	}
}

func TestUpdateChecksTypeAndID(t *testing.T) {
	s := newService(t)
	_, err := s.Update(ctx, &rest.Request{Type: "Patient", ID: "a", Body: []byte(`{"resourceType":"Patient","id":"b"}`)})
	fe := mustFail(t, err, http.StatusBadRequest, "invalid")
	if fe.Outcome.Issue[0].Expression[0] != "Patient.id" {
		t.Fatalf("expression %v", fe.Outcome.Issue[0].Expression)
	}
	_, err = s.Create(ctx, &rest.Request{Type: "Patient", Body: []byte(`{"resourceType":"Observation"}`)})
	mustFail(t, err, http.StatusBadRequest, "invalid")
	// create-on-update with a client id
	expect(t, http.StatusCreated)(s.Update(ctx, &rest.Request{Type: "Patient", ID: "client-1", Body: []byte(`{"resourceType":"Patient","id":"client-1"}`)}))
}

func TestConditionalCreateAndUpdate(t *testing.T) {
	s := newService(t)
	q := "identifier=urn:oid:1.2.250.1.213.1.4.8|42"
	first := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("42"), IfNoneExist: q}))
	again := expect(t, http.StatusOK)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("42"), IfNoneExist: q}))
	if again.Record.ID != first.Record.ID {
		t.Fatal("conditional create made a second resource")
	}
	crit, _ := url.ParseQuery(q)
	u := expect(t, http.StatusOK)(s.Update(ctx, &rest.Request{Type: "Patient", Query: crit, Body: patient("42")}))
	if u.Record.ID != first.Record.ID || u.Record.Version != 2 {
		t.Fatalf("conditional update hit %s v%d", u.Record.ID, u.Record.Version)
	}
	expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("42")}))
	_, err := s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("42"), IfNoneExist: q})
	mustFail(t, err, http.StatusPreconditionFailed, "duplicate")
	_, err = s.Update(ctx, &rest.Request{Type: "Patient", Query: crit, Body: patient("42")})
	mustFail(t, err, http.StatusPreconditionFailed, "multiple-matches")
}

func TestPatch(t *testing.T) {
	s := newService(t)
	c := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("7")}))
	p := expect(t, http.StatusOK)(s.Patch(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID,
		Body: []byte(`[{"op":"replace","path":"/name/0/family","value":"Patched"}]`)}))
	if !strings.Contains(string(p.Body), `"family":"Patched"`) || p.Record.Version != 2 {
		t.Fatalf("patched %s", p.Body)
	}
	_, err := s.Patch(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID, Body: []byte(`[{"op":"replace","path":"/id","value":"other"}]`)})
	mustFail(t, err, http.StatusUnprocessableEntity, "invalid")
	_, err = s.Patch(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID, Body: []byte(`[{"op":"test","path":"/name/0/family","value":"X"}]`)})
	mustFail(t, err, http.StatusUnprocessableEntity, "processing")
}

const txBundle = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"tx1"}]},
  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:oid:1.2.250.1.213.1.4.8|tx1"}},
 {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059","resource":{"resourceType":"Observation","status":"final","code":{"text":"pain"},"subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}},
  "request":{"method":"POST","url":"Observation"}}
 LAST]}`

func TestTransactionResolvesReferencesAndIsIdempotent(t *testing.T) {
	s := newService(t)
	resp := expect(t, http.StatusOK)(s.Bundle(ctx, &rest.Request{Body: []byte(strings.Replace(txBundle, "LAST", "", 1))}, ""))
	var b fhir.Bundle
	json.Unmarshal(resp.Body, &b)
	if len(b.Entry) != 2 || b.Entry[0].Response.Status != "201 Created" {
		t.Fatalf("response %s", resp.Body)
	}
	pid := strings.Split(b.Entry[0].Response.Location, "/")[1]
	oid := strings.Split(b.Entry[1].Response.Location, "/")[1]
	obs := expect(t, http.StatusOK)(s.Read(ctx, &rest.Request{Type: "Observation", ID: oid}))
	if !strings.Contains(string(obs.Body), `"reference":"Patient/`+pid+`"`) {
		t.Fatalf("reference not resolved: %s", obs.Body)
	}
	// the same referral again: the patient is matched, not created twice
	resp = expect(t, http.StatusOK)(s.Bundle(ctx, &rest.Request{Body: []byte(strings.Replace(txBundle, "LAST", "", 1))}, ""))
	json.Unmarshal(resp.Body, &b)
	if b.Entry[0].Response.Status != "200 OK" || !strings.HasPrefix(b.Entry[0].Response.Location, "Patient/"+pid+"/") {
		t.Fatalf("second post: %s", resp.Body)
	}
}

func TestTransactionIsAtomic(t *testing.T) {
	s := newService(t)
	bad := `,{"resource":{"resourceType":"Patient","id":"x"},"request":{"method":"PUT","url":"Patient/x","ifMatch":"W/\"5\""}}`
	_, err := s.Bundle(ctx, &rest.Request{Body: []byte(strings.Replace(txBundle, "LAST", bad, 1))}, "")
	fe := mustFail(t, err, http.StatusPreconditionFailed, "conflict")
	if got := fe.Outcome.Issue[0].Expression[0]; got != "Bundle.entry[2]" {
		t.Fatalf("expression %q", got)
	}
	ids, _ := matchAll(t, s, "Patient")
	if len(ids) != 0 {
		t.Fatalf("partial write: %d patients", len(ids))
	}
}

func matchAll(t *testing.T, s *rest.Service, typ string) ([]string, error) {
	var ids []string
	err := s.Store.View(ctx, func(tx fhir.Tx) error {
		return tx.ScanType(typ, func(r *fhir.Record) bool { ids = append(ids, r.ID); return true })
	})
	return ids, err
}

func TestBatchEntriesFailAlone(t *testing.T) {
	s := newService(t)
	body := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
	 {"request":{"method":"GET","url":"Patient/missing"}},
	 {"resource":{"resourceType":"Observation"},"request":{"method":"POST","url":"Patient"}}]}`
	resp := expect(t, http.StatusOK)(s.Bundle(ctx, &rest.Request{Body: []byte(body)}, ""))
	var b fhir.Bundle
	json.Unmarshal(resp.Body, &b)
	got := []string{b.Entry[0].Response.Status, b.Entry[1].Response.Status, b.Entry[2].Response.Status}
	if got[0] != "201 Created" || got[1] != "404 Not Found" || got[2] != "400 Bad Request" {
		t.Fatalf("statuses %v", got)
	}
}

func TestSearchPagesStayStableWhileOthersWrite(t *testing.T) {
	s := newService(t)
	for i := 0; i < 5; i++ {
		expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("p")}))
	}
	first := expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"identifier": {"p"}}}))
	var b fhir.Bundle
	json.Unmarshal(first.Body, &b)
	seen := map[string]bool{}
	for {
		for _, e := range b.Entry {
			var r struct{ ID string }
			json.Unmarshal(e.Resource, &r)
			if seen[r.ID] {
				t.Fatalf("id %s on two pages", r.ID)
			}
			seen[r.ID] = true
		}
		// a write between pages must not shift them
		expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("p")}))
		next := ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				next = l.URL
			}
		}
		if next == "" {
			break
		}
		u, _ := url.Parse(next)
		page := expect(t, http.StatusOK)(s.Page(ctx, &rest.Request{Query: u.Query()}))
		b = fhir.Bundle{}
		json.Unmarshal(page.Body, &b)
	}
	if len(seen) != 5 || *b.Total != 5 {
		t.Fatalf("saw %d of 5 (total %d)", len(seen), *b.Total)
	}
}
