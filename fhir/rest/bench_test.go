package rest_test

import (
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir/rest"
)

// BenchmarkTransaction posts a small referral-like transaction (Patient + Observation
// linked by urn:uuid) from parallel clients: the store's group commit and the
// indexing cost show here.
func BenchmarkTransaction(b *testing.B) {
	s := newService(b)
	body := []byte(strings.Replace(txBundle, "LAST", "", 1))
	body = []byte(strings.Replace(string(body), `,"ifNoneExist":"identifier=urn:oid:1.2.250.1.213.1.4.8|tx1"`, "", 1))
	b.ReportAllocs()
	b.SetParallelism(8) // 16 clients on 2 cores, as aitgw bench drives it
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Bundle(ctx, &rest.Request{Body: body}, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIndexObservation is the indexing share of a write.
func BenchmarkIndexObservation(b *testing.B) {
	s := newService(b)
	body := []byte(`{"resourceType":"Observation","id":"o1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00Z"},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"777-3"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-01","valueQuantity":{"value":120,"unit":"10*3/uL","system":"http://unitsofmeasure.org","code":"10*3/uL"}}`)
	for i := 0; i < b.N; i++ {
		if _, err := s.Engine.Index("Observation", body); err != nil {
			b.Fatal(err)
		}
	}
}
