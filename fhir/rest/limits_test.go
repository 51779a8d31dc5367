package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// bundleOf builds a batch or transaction of n entries made by entry(i).
func bundleOf(typ string, n int, entry func(i int) string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"resourceType":"Bundle","type":%q,"entry":[`, typ)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(entry(i))
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func createEntry(i int) string {
	return fmt.Sprintf(`{"fullUrl":"urn:uuid:00000000-0000-4000-8000-%012d","resource":{"resourceType":"Patient","name":[{"family":"Bulk"}]},"request":{"method":"POST","url":"Patient"}}`, i)
}

func patientCount(t *testing.T, s *rest.Service) int {
	t.Helper()
	n := 0
	s.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		n, err = tx.Count("Patient")
		return err
	})
	return n
}

// Finding #15.4: a 10,000-entry transaction ran for minutes. Beyond BundleEntries
// (default 1,000) a Bundle is refused with 413 before any entry is read.
func TestBundleOverEntryLimitIsRefused(t *testing.T) {
	s := newService(t)
	start := time.Now()
	_, err := s.Bundle(ctx, &rest.Request{Body: bundleOf("transaction", 1001, createEntry)}, "")
	fe := mustFail(t, err, http.StatusRequestEntityTooLarge, "too-long")
	if fe.Outcome.Issue[0].Expression[0] != "Bundle.entry" {
		t.Errorf("expression %v", fe.Outcome.Issue[0].Expression)
	}
	if patientCount(t, s) != 0 {
		t.Fatal("a refused transaction wrote")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusal took %v", d)
	}
	s.Limits.BundleEntries = 5
	_, err = s.Bundle(ctx, &rest.Request{Body: bundleOf("batch", 6, createEntry)}, "")
	mustFail(t, err, http.StatusRequestEntityTooLarge, "too-long")
	expect(t, http.StatusOK)(s.Bundle(ctx, &rest.Request{Body: bundleOf("transaction", 5, createEntry)}, ""))
}

// Finding #15.4: a batch of 300 searches answered 89 MB. Beyond BatchSearches search
// entries, a 422.
func TestBatchOfManySearchesIsRefused(t *testing.T) {
	s := newService(t)
	search := func(int) string { return `{"request":{"method":"GET","url":"Patient?name=x"}}` }
	_, err := s.Bundle(ctx, &rest.Request{Body: bundleOf("batch", rest.DefaultBatchSearches+1, search)}, "")
	mustFail(t, err, http.StatusUnprocessableEntity, "too-costly")
	expect(t, http.StatusOK)(s.Bundle(ctx, &rest.Request{Body: bundleOf("batch", 3, search)}, ""))
}

// Finding #15.4: an 852-byte JSON Patch of copy operations took 13 s and 2.2 GB. It is
// refused with 413 as soon as the copies pass PatchResult, and nothing is written.
func TestPatchCopyBombIsRefused(t *testing.T) {
	s := newService(t)
	c := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("bomb")}))
	var ops []string
	for i := 0; i < 30; i++ {
		ops = append(ops, `{"op":"copy","from":"/name","path":"/name/-"}`)
	}
	body := []byte("[" + strings.Join(ops, ",") + "]")
	start := time.Now()
	_, err := s.Patch(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID, Body: body})
	mustFail(t, err, http.StatusRequestEntityTooLarge, "too-long")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusal took %v", d)
	}
	cur := expect(t, http.StatusOK)(s.Read(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID}))
	if cur.Record.Version != 1 {
		t.Fatal("the refused patch wrote a version")
	}
}

// A JSON Patch of more than PatchOps operations is refused before it is applied.
func TestPatchOverOperationLimitIsRefused(t *testing.T) {
	s := newService(t)
	s.Limits.PatchOps = 3
	c := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("ops")}))
	op := `{"op":"replace","path":"/name/0/family","value":"X"}`
	_, err := s.Patch(ctx, &rest.Request{Type: "Patient", ID: c.Record.ID, Body: []byte("[" + strings.Repeat(op+",", 3) + op + "]")})
	mustFail(t, err, http.StatusRequestEntityTooLarge, "too-long")
}

// _count above MaxPageSize is refused (422) rather than run.
func TestCountAboveMaximumIsRefused(t *testing.T) {
	s := newService(t)
	s.MaxPageSize = 50
	_, err := s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"_count": {"51"}}})
	fe := mustFail(t, err, http.StatusUnprocessableEntity, "too-costly")
	if fe.Outcome.Issue[0].Expression[0] != "_count" {
		t.Errorf("expression %v", fe.Outcome.Issue[0].Expression)
	}
	expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"_count": {"50"}}}))
}

// A search answer larger than ResponseBytes is refused with 422.
func TestResponseOverSizeLimitIsRefused(t *testing.T) {
	s := newService(t)
	for i := 0; i < 5; i++ {
		expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("big")}))
	}
	one := expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"_count": {"1"}}}))
	s.Limits.ResponseBytes = len(one.Body) + 100
	_, err := s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"_count": {"5"}}})
	mustFail(t, err, http.StatusUnprocessableEntity, "too-costly")
	expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: url.Values{"_count": {"1"}}}))
}

// More include resources on one page than Includes: 422.
func TestIncludeFanOutIsBounded(t *testing.T) {
	s := newService(t)
	p := expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Patient", Body: patient("fan")}))
	for i := 0; i < 4; i++ {
		expect(t, http.StatusCreated)(s.Create(ctx, &rest.Request{Type: "Observation", Body: []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/` + p.Record.ID + `"}}`)}))
	}
	s.Limits.Includes = 3
	q := url.Values{"_id": {p.Record.ID}, "_revinclude": {"Observation:subject"}}
	_, err := s.Search(ctx, &rest.Request{Type: "Patient", Query: q})
	mustFail(t, err, http.StatusUnprocessableEntity, "too-costly")
	s.Limits.Includes = 4
	expect(t, http.StatusOK)(s.Search(ctx, &rest.Request{Type: "Patient", Query: q}))
}

// Past the request deadline a transaction is cancelled and leaves no write behind.
func TestTransactionPastDeadlineWritesNothing(t *testing.T) {
	s := newService(t)
	s.Limits.Deadline = time.Nanosecond
	dctx, cancel := s.WithDeadline(context.Background())
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err := s.Bundle(dctx, &rest.Request{Body: bundleOf("transaction", 50, createEntry)}, "")
	mustFail(t, err, http.StatusUnprocessableEntity, "too-costly")
	if n := patientCount(t, s); n != 0 {
		t.Fatalf("%d patients written past the deadline", n)
	}
}
