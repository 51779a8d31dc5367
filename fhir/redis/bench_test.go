package redis

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

var benchBody = []byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"valueInteger":6}`)

// BenchmarkPutParallel creates one resource per Update from parallel goroutines.
func BenchmarkPutParallel(b *testing.B) {
	s := openPrefixed(b, randomPrefix())
	var n atomic.Int64
	now := time.Now()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "o" + strconv.FormatInt(n.Add(1), 10)
			err := s.Update(context.Background(), func(tx fhir.Tx) error {
				return tx.Put(&fhir.Record{Type: "Observation", ID: id, Version: 1, LastUpdated: now, Method: "POST", Body: benchBody},
					[]fhir.IndexEntry{{Param: "code", Key: []byte("http://loinc.org|72514-3")}})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkRead reads the current version of resources among 1000, in parallel (one
// View each: lease, two reads, release).
func BenchmarkRead(b *testing.B) {
	s := openPrefixed(b, randomPrefix())
	const n = 1000
	err := s.Update(context.Background(), func(tx fhir.Tx) error {
		for i := 0; i < n; i++ {
			r := &fhir.Record{Type: "Observation", ID: fmt.Sprintf("o%d", i), Version: 1, LastUpdated: time.Now(), Method: "POST", Body: benchBody}
			if err := tx.Put(r, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "o" + strconv.FormatInt(seq.Add(7)%n, 10)
			err := s.View(context.Background(), func(tx fhir.Tx) error {
				_, err := tx.Current("Observation", id)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}
