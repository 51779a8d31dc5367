package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storetest"
)

// benchOpener opens a store in a fresh file with opts.
func benchOpener(opts ...Option) storetest.BenchOpener {
	return func(b *testing.B) fhir.Store {
		b.Helper()
		s, err := Open(filepath.Join(b.TempDir(), "aitgw.db"), opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}
}

// BenchmarkPutParallel: compare the sub-benchmarks: batched commits share an fsync,
// unbatched ones pay one each.
func BenchmarkPutParallel(b *testing.B) {
	b.Run("batched", func(b *testing.B) { storetest.BenchPut(b, benchOpener()) })
	b.Run("unbatched", func(b *testing.B) { storetest.BenchPut(b, benchOpener(WithoutBatching())) })
}

// BenchmarkRead reads among 10 000 resources.
func BenchmarkRead(b *testing.B) { storetest.BenchRead(b, benchOpener(), 10000) }

// lookupsPerView is how many index scans a selective search of two clauses makes
// (an estimate of each, then a scan of the smaller).
const lookupsPerView = 3

// BenchmarkLookupGenerations: the lookups of a selective search (lookupsPerView keys
// of one resource each, in one snapshot) among 100,000 resources whose index is in 1
// generation or in 10: what each generation adds to a selective search.
func BenchmarkLookupGenerations(b *testing.B) {
	for _, gens := range []int{1, 10} {
		b.Run(fmt.Sprintf("generations=%d", gens), func(b *testing.B) {
			const n = 100_000
			s, err := Open(filepath.Join(b.TempDir(), "aitgw.db"), WithGenerationSize(n/gens))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			for start := 0; start < n; start += 1000 {
				if err := s.Update(ctx, func(tx fhir.Tx) error {
					for i := start; i < start+1000; i++ {
						rec := &fhir.Record{Type: "Patient", ID: fmt.Sprintf("p%06d", i), Version: 1, LastUpdated: time.Now(), Body: []byte(`{}`)}
						if err := tx.Put(rec, []fhir.IndexEntry{
							{Param: "identifier", Key: fmt.Appendf(nil, "urn:ins|%08d", (i*7919)%n)},
							{Param: "gender", Key: []byte("female")},
						}); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				found := 0
				if err := s.View(ctx, func(tx fhir.Tx) error {
					for j := range lookupsPerView {
						key := fmt.Appendf(nil, "urn:ins|%08d", ((i*lookupsPerView+j)*104729)%n)
						if err := tx.ScanIndex("Patient", "identifier", key, append(key, 0), func([]byte, string) bool { found++; return true }); err != nil {
							return err
						}
					}
					return nil
				}); err != nil || found != lookupsPerView {
					b.Fatalf("lookups: %d found, %v", found, err)
				}
			}
		})
	}
}
