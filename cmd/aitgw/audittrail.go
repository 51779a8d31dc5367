package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aitgw/aitgw/fhir"
)

// Where the migration of the audit trail is recorded in the main store.
const (
	migrationNS       = "migrations"
	auditTrailMovedTo = "audit-trail-in-audit.db"
)

// moveAuditTrail copies the AuditEvents an earlier gateway kept in the main store
// into the audit trail's own store, once: after it, the main store no longer serves
// them (fhir.Split routes AuditEvent to the audit store), and an upgrade must not
// lose them. Events already in the audit store are skipped, so an interrupted move
// resumes where it stopped.
func moveAuditTrail(ctx context.Context, main, trail fhir.Store) (moved int, err error) {
	var done []byte
	if err := main.View(ctx, func(tx fhir.Tx) error {
		var err error
		done, err = tx.GetAux(migrationNS, auditTrailMovedTo)
		return err
	}); err != nil || done != nil {
		return 0, err
	}
	type event struct {
		rec     *fhir.Record
		entries []fhir.IndexEntry
	}
	var batch []event
	flush := func() error {
		err := trail.Update(ctx, func(tx fhir.Tx) error {
			for _, e := range batch {
				if _, err := tx.Current("AuditEvent", e.rec.ID); err == nil {
					continue // moved by an earlier, interrupted run
				} else if !errors.Is(err, fhir.ErrNotFound) {
					return err
				}
				if err := tx.Put(e.rec, e.entries); err != nil {
					return err
				}
				moved++
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err = main.View(ctx, func(tx fhir.Tx) error {
		var ferr error
		scan := tx.ScanType("AuditEvent", func(rec *fhir.Record) bool {
			entries, err := tx.Index("AuditEvent", rec.ID)
			if err != nil {
				ferr = err
				return false
			}
			rec.Version = 1 // audit events are never updated: their first version is their only one
			batch = append(batch, event{rec, entries})
			if len(batch) == 1024 {
				ferr = flush()
			}
			return ferr == nil
		})
		return errors.Join(scan, ferr)
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return moved, fmt.Errorf("moving the audit trail to its own store: %w", err)
	}
	return moved, main.Update(ctx, func(tx fhir.Tx) error {
		return tx.PutAux(migrationNS, auditTrailMovedTo, []byte("done"))
	})
}
