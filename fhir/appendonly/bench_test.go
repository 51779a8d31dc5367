package appendonly

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// BenchmarkAppend commits audit-like events 1,024 at a time: ~1,200-byte bodies, 16
// index entries each, 15 of them drawn from small sets of values shared across events
// and one distinct, date-like key per event.
func BenchmarkAppend(b *testing.B) {
	const perCommit = 1024
	s := openTemp(b)
	body := append([]byte(`{"resourceType":"AuditEvent","note":"`), bytes.Repeat([]byte("x"), 1150)...)
	body = append(body, `"}`...)
	shared := []struct {
		param string
		n     int // distinct values
	}{{"type", 3}, {"subtype", 8}, {"action", 5}, {"outcome", 2}, {"agent", 50}, {"agent-name", 50},
		{"source", 2}, {"site", 2}, {"entity", 200}, {"entity-type", 10}, {"entity-role", 4},
		{"patient", 200}, {"policy", 3}, {"address", 50}, {"altid", 50}}
	n := 0
	next := func() (*fhir.Record, []fhir.IndexEntry) {
		n++
		when := time.Unix(1_700_000_000, int64(n)*1000).UTC()
		r := &fhir.Record{Type: typ, ID: fmt.Sprintf("0190a0b1-%012x", n), Version: 1, LastUpdated: when, Method: "POST", Body: body}
		ix := make([]fhir.IndexEntry, 0, 16)
		for i, p := range shared {
			ix = append(ix, fhir.IndexEntry{Param: p.param, Key: fmt.Appendf(nil, "v%d", (n*(i+1))%p.n)})
		}
		ix = append(ix, fhir.IndexEntry{Param: "date", Key: when.AppendFormat(nil, time.RFC3339Nano)})
		return r, ix
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		recs := make([]*fhir.Record, perCommit)
		ixs := make([][]fhir.IndexEntry, perCommit)
		for i := range recs {
			recs[i], ixs[i] = next()
		}
		b.StartTimer()
		mustUpdate(b, s, func(tx fhir.Tx) error {
			for i, r := range recs {
				if err := tx.Put(r, ixs[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perCommit), "ns/record")
}
