package smart

import (
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir/appendonly"
)

// BenchmarkAuditWrite: what the audit trail costs per access, from the queued access
// to the committed event (rendered, validated, indexed, stored in batches of 1,024
// in the append-only store, fsync included).
func BenchmarkAuditWrite(b *testing.B) {
	store, err := appendonly.Open(filepath.Join(b.TempDir(), "audit.db"), "AuditEvent")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	l := &AuditLog{store: store, check: newAuditCheck(r4Validator(b)), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	g := &Grant{ClientID: "operator", Scopes: mustScopes(b, "system/*.cruds")}
	req := AuditRequest{Method: "GET", Path: "/fhir/Patient/0195f3c2-8d1e-7abc-9def-0123456789ab", Interaction: InteractionRead,
		ResourceType: "Patient", ResourceID: "0195f3c2-8d1e-7abc-9def-0123456789ab", PatientID: "0195f3c2-8d1e-7abc-9def-0123456789ab",
		Outcome: 200, Observer: "aitgw 127.0.0.1:8080", SourceAddress: "127.0.0.1"}
	batch := make([]pendingAudit, 0, auditBatch)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Recorded = time.Now()
		batch = append(batch, pendingAudit{grant: g, req: req})
		if len(batch) == auditBatch || i == b.N-1 {
			l.write(batch)
			batch = batch[:0]
		}
	}
	b.StopTimer()
	// the gateway overlaps the fsync with serving: what it pays is CPU, not wall time
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustScopes(tb testing.TB, s string) []Scope {
	rs, _, err := ParseScopes(s)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}
