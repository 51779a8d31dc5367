package redis

import (
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/storetest"
)

// benchOpen opens a store under a fresh prefix, dropped when the benchmark ends.
func benchOpen(b *testing.B) fhir.Store { return openPrefixed(b, randomPrefix()) }

// BenchmarkPutParallel: every Update takes the writer lock and commits one MULTI/EXEC.
func BenchmarkPutParallel(b *testing.B) { storetest.BenchPut(b, benchOpen) }

// BenchmarkRead reads among 1000 resources (one View each: lease, two reads,
// release); fewer than bolt's 10 000 to keep the setup commit short.
func BenchmarkRead(b *testing.B) { storetest.BenchRead(b, benchOpen, 1000) }
