package storetest

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// BenchOpener returns a new, empty store for one benchmark run, registering its own
// cleanup (b.Cleanup).
type BenchOpener func(b *testing.B) fhir.Store

// benchBody is a typical small resource: a pain score Observation.
var benchBody = []byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"valueInteger":6}`)

// BenchPut creates one Observation (two index entries) per Update from 16 goroutines
// per core: the load of many clients posting at once. It reports puts/s.
func BenchPut(b *testing.B, open BenchOpener) {
	s := open(b)
	var n atomic.Int64
	now := time.Now()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "o" + strconv.FormatInt(n.Add(1), 10)
			err := s.Update(context.Background(), func(tx fhir.Tx) error {
				return tx.Put(&fhir.Record{Type: "Observation", ID: id, Version: 1, LastUpdated: now, Method: "POST", Body: benchBody},
					[]fhir.IndexEntry{{Param: "code", Key: []byte("http://loinc.org|72514-3")}, {Param: "subject", Key: []byte("Patient/" + id)}})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchRead stores resources Observations in one Update, then reads the current
// version of one of them per View, in parallel, spreading reads over all of them. It
// reports reads/s.
func BenchRead(b *testing.B, open BenchOpener, resources int) {
	s := open(b)
	now := time.Now()
	err := s.Update(context.Background(), func(tx fhir.Tx) error {
		for i := 0; i < resources; i++ {
			r := &fhir.Record{Type: "Observation", ID: "o" + strconv.Itoa(i), Version: 1, LastUpdated: now, Method: "POST", Body: benchBody}
			if err := tx.Put(r, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// A stride prime to any number of resources below it visits them all in a
	// scattered order.
	const stride = 7919
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "o" + strconv.FormatInt(seq.Add(stride)%int64(resources), 10)
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
