package rest_test

import (
	"fmt"
	"strconv"
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

// BenchmarkTransactionSize posts transactions of one Patient and n-1 Observations
// linking to it by urn:uuid, as a bulk load does: the cost per entry must not grow
// with n (each entry once checked the whole transaction's fullUrl map, which made a
// 500-entry transaction quadratic).
func BenchmarkTransactionSize(b *testing.B) {
	for _, n := range []int{50, 500} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s := newService(b)
			var sb strings.Builder
			sb.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:00000000-0000-4000-8000-000000000000","resource":{"resourceType":"Patient","gender":"female"},"request":{"method":"POST","url":"Patient"}}`)
			for i := 1; i < n; i++ {
				fmt.Fprintf(&sb, `,{"fullUrl":"urn:uuid:00000000-0000-4000-8000-%012d","resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"urn:uuid:00000000-0000-4000-8000-000000000000"},"valueQuantity":{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},"request":{"method":"POST","url":"Observation"}}`, i, 100+i%60)
			}
			sb.WriteString(`]}`)
			body := []byte(sb.String())
			for b.Loop() {
				if _, err := s.Bundle(ctx, &rest.Request{Body: body}, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}
