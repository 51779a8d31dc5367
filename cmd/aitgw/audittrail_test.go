package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/appendonly"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/search"
)

// TestMoveAuditTrail: the AuditEvents an earlier gateway kept in its main store are
// moved to the audit store on upgrade, once, bodies and index entries unchanged, and
// searchable through the split store; other resources stay where they are.
func TestMoveAuditTrail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	main, err := bolt.Open(filepath.Join(dir, "aitgw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer main.Close()
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500 // more than one batch
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err = main.Update(ctx, func(tx fhir.Tx) error {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("0190%08d", i)
			body := fmt.Appendf(nil, `{"resourceType":"AuditEvent","id":"%s","meta":{"versionId":"1","lastUpdated":"%s"},"type":{"code":"rest"},"recorded":"%s","agent":[{"requestor":true,"who":{"reference":"Practitioner/p%d"}}],"source":{"observer":{"display":"gw"}},"entity":[{"what":{"reference":"Patient/pat%d"}}]}`,
				id, at.Format(time.RFC3339), at.Format(time.RFC3339), i%7, i%3)
			entries, err := reg.Index("AuditEvent", body)
			if err != nil {
				return err
			}
			if err := tx.Put(&fhir.Record{Type: "AuditEvent", ID: id, Version: 1, LastUpdated: at, Method: "POST", Body: body}, entries); err != nil {
				return err
			}
		}
		return tx.Put(&fhir.Record{Type: "Patient", ID: "pat1", Version: 1, LastUpdated: at, Method: "PUT", Body: []byte(`{"resourceType":"Patient","id":"pat1"}`)}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	trail, err := appendonly.Open(filepath.Join(dir, "audit.db"), "AuditEvent")
	if err != nil {
		t.Fatal(err)
	}
	defer trail.Close()
	if moved, err := moveAuditTrail(ctx, main, trail); err != nil || moved != n {
		t.Fatalf("moved %d, %v; want %d", moved, err, n)
	}
	if moved, err := moveAuditTrail(ctx, main, trail); err != nil || moved != 0 {
		t.Fatalf("second run moved %d, %v; want nothing", moved, err)
	}
	split := fhir.Split(main, trail, "AuditEvent")
	_ = split.View(ctx, func(tx fhir.Tx) error {
		if c, _ := tx.Count("AuditEvent"); c != n {
			t.Errorf("audit store holds %d events, want %d", c, n)
		}
		if _, err := tx.Current("Patient", "pat1"); err != nil {
			t.Errorf("Patient left behind: %v", err)
		}
		_ = main.View(ctx, func(m fhir.Tx) error {
			for _, id := range []string{"019000000000", "019000001234", "019000002499"} {
				was, _ := m.Current("AuditEvent", id)
				now, err := tx.Current("AuditEvent", id)
				if err != nil || string(now.Body) != string(was.Body) || !now.LastUpdated.Equal(was.LastUpdated) {
					t.Errorf("%s: moved as %+v, %v", id, now, err)
				}
				e1, _ := m.Index("AuditEvent", id)
				e2, _ := tx.Index("AuditEvent", id)
				if fmt.Sprintf("%q", e1) != fmt.Sprintf("%q", e2) {
					t.Errorf("%s: entries %q, were %q", id, e2, e1)
				}
			}
			return nil
		})
		q, _, ferr := reg.ParseQuery("AuditEvent", map[string][]string{"patient": {"pat1"}, "agent": {"Practitioner/p2"}}, true)
		if ferr != nil {
			t.Fatal(ferr)
		}
		res, err := reg.Execute(tx, q)
		want := 0
		for i := 0; i < n; i++ {
			if i%3 == 1 && i%7 == 2 {
				want++
			}
		}
		if err != nil || len(res.IDs) != want || !slices.IsSorted(res.IDs) {
			t.Errorf("search patient=pat1&agent=Practitioner/p2: %d ids, %v; want %d", len(res.IDs), err, want)
		}
		return nil
	})
}
