package smart

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/benchcpu"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/appendonly"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/search"
)

// BenchmarkAuditWrite: what the audit trail costs per access, from the queued access
// to the committed event, in CPU (cpu-µs/op: the gateway overlaps the fsync with
// serving, so CPU is what an audited request pays):
//
//   - append-only: as the gateway does it (rendered, checked by shape and values,
//     entries built by construction, stored in batches of 1,024 in fhir/appendonly);
//   - general-store: the baseline, the way a generated resource is stored in the
//     main store: the same event validated in full, indexed by FHIRPath, and put in
//     fhir/bolt, in the same batches.
func BenchmarkAuditWrite(b *testing.B) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	g := &Grant{ClientID: "operator", Scopes: mustScopes(b, "system/*.cruds")}
	req := AuditRequest{Method: "GET", Path: "/fhir/Patient/0195f3c2-8d1e-7abc-9def-0123456789ab", Interaction: InteractionRead,
		ResourceType: "Patient", ResourceID: "0195f3c2-8d1e-7abc-9def-0123456789ab", PatientID: "0195f3c2-8d1e-7abc-9def-0123456789ab",
		Outcome: 200, Observer: "aitgw 127.0.0.1:8080", SourceAddress: "127.0.0.1"}
	batches := func(b *testing.B, write func([]pendingAudit)) {
		batch := make([]pendingAudit, 0, auditBatch)
		cpu0 := benchcpu.Process()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req.Recorded = time.Now()
			batch = append(batch, pendingAudit{grant: g, req: req})
			if len(batch) == auditBatch || i == b.N-1 {
				write(batch)
				batch = batch[:0]
			}
		}
		b.StopTimer()
		b.ReportMetric(float64((benchcpu.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	}
	b.Run("append-only", func(b *testing.B) {
		store, err := appendonly.Open(filepath.Join(b.TempDir(), "audit.db"), "AuditEvent")
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		l := &AuditLog{store: store, check: newAuditCheck(r4Validator(b)), logger: logger}
		batches(b, l.write)
	})
	b.Run("general-store", func(b *testing.B) {
		store, err := bolt.Open(filepath.Join(b.TempDir(), "aitgw.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		reg, err := search.NewRegistry()
		if err != nil {
			b.Fatal(err)
		}
		reg.Restrict("AuditEvent", AuditSearchParams...)
		v := r4Validator(b)
		var ids auditIDs
		batches(b, func(batch []pendingAudit) {
			recs := make([]*fhir.Record, len(batch))
			index := make([][]fhir.IndexEntry, len(batch))
			now := time.Now()
			for i, p := range batch {
				a := renderAudit(p.grant, p.req, ids.next(now), now)
				if oo := v.Validate(a.body); oo != nil && oo.HasErrors() {
					b.Fatal(oo.Issue)
				}
				if index[i], err = reg.Index("AuditEvent", a.body); err != nil {
					b.Fatal(err)
				}
				recs[i] = &fhir.Record{Type: "AuditEvent", ID: a.id, Version: 1, LastUpdated: now, Method: http.MethodPost, Body: a.body}
			}
			err := store.Update(context.Background(), func(tx fhir.Tx) error {
				for i, r := range recs {
					if err := tx.Put(r, index[i]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	})
}

func mustScopes(tb testing.TB, s string) []Scope {
	rs, _, err := ParseScopes(s)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}
