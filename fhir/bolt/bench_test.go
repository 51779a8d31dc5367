package bolt

import (
	"path/filepath"
	"testing"

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
