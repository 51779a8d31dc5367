package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// benchBody is a typical small resource.
var benchBody = []byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"valueInteger":6}`)

func benchStore(b *testing.B, opts ...Option) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "aitgw.db"), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkPutParallel creates one resource per Update from parallel goroutines (16
// per core): the load of many clients posting at once. Compare the sub-benchmarks:
// batched commits share an fsync, unbatched ones pay one each.
func BenchmarkPutParallel(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []Option
	}{
		{"batched", nil},
		{"unbatched", []Option{WithoutBatching()}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			s := benchStore(b, mode.opts...)
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
		})
	}
}

// BenchmarkRead reads the current version of random resources among 10 000, in
// parallel.
func BenchmarkRead(b *testing.B) {
	s := benchStore(b)
	const n = 10000
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
			id := "o" + strconv.FormatInt(seq.Add(7919)%n, 10)
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
