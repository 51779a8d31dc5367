package pathway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// ConflictAuditor records identity conflicts as AuditEvents. A conflict is found
// inside a write's transaction, which then rolls back: the AuditEvent is written
// after, in its own transaction, by Run. Record never blocks a write.
type ConflictAuditor struct {
	trail   fhir.Store
	svc     *rest.Service
	logger  *slog.Logger
	queue   chan IdentityConflict
	mu      sync.Mutex
	last    string
	lastReq context.Context
}

// NewConflictAuditor writes into trail, the audit trail's store (append-only: the
// FHIR interactions cannot write there), indexed and validated by svc's engine and
// validator.
func NewConflictAuditor(trail fhir.Store, svc *rest.Service, logger *slog.Logger) *ConflictAuditor {
	if logger == nil {
		logger = slog.Default()
	}
	return &ConflictAuditor{trail: trail, svc: svc, logger: logger, queue: make(chan IdentityConflict, 1024)}
}

// Record queues a conflict; when the queue is full the loss is logged (no patient
// data: the element only). A store that re-runs a refused transaction reports the
// same conflict again under the same request: it is recorded once.
func (a *ConflictAuditor) Record(c IdentityConflict) {
	key := c.Element + "\x00" + c.Key + "\x00" + c.Sent + "\x00" + c.Stored + "\x00" + c.Disagrees
	a.mu.Lock()
	same := a.last == key && c.request != nil && a.lastReq == c.request
	a.last, a.lastReq = key, c.request
	a.mu.Unlock()
	if same {
		return
	}
	select {
	case a.queue <- c:
	default:
		a.logger.Error("identity conflict not audited: audit queue full", "element", c.Element)
	}
}

// Run writes the queued conflicts until ctx ends.
func (a *ConflictAuditor) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-a.queue:
			if err := a.write(ctx, c); err != nil && ctx.Err() == nil {
				a.logger.Error("identity conflict not audited", "element", c.Element, "error", err.Error())
			}
		}
	}
}

// Flush writes what is queued now (tests, shutdown).
func (a *ConflictAuditor) Flush(ctx context.Context) {
	for {
		select {
		case c := <-a.queue:
			_ = a.write(ctx, c)
		default:
			return
		}
	}
}

func (a *ConflictAuditor) write(ctx context.Context, c IdentityConflict) error {
	body := ConflictAuditEvent(c)
	if a.svc.Validate != nil {
		if oo := a.svc.Validate.ValidateWrite("AuditEvent", body, true); oo != nil && oo.HasErrors() {
			return fmt.Errorf("identity-conflict AuditEvent invalid: %s", oo.Issue[0].Diagnostics)
		}
	}
	now := time.Now().UTC()
	id := rest.NewID()
	stamped, err := fhir.Stamp(body, id, 1, now)
	if err != nil {
		return err
	}
	index, err := a.svc.Engine.Index("AuditEvent", body)
	if err != nil {
		return err
	}
	index = append(index, a.svc.Engine.StampEntries(id, fhir.FormatInstant(now))...)
	return a.trail.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "AuditEvent", ID: id, Version: 1, LastUpdated: now, Method: http.MethodPost, Body: stamped}, index)
	})
}

// Codes of the identity-conflict AuditEvent.
const (
	// AuditTypeSecurityAlert is DICOM 110113 "Security Alert": a patient-safety
	// refusal the trail must show.
	AuditTypeSecurityAlert = "110113"
	// AuditSubtypeIdentityConflict names the refusal in the guide's code system.
	AuditSubtypeIdentityConflict = "identity-conflict"
)

// ConflictAuditEvent renders the R4 AuditEvent of a refused identity conflict:
// outcome 4 (the request was refused), the stored dossier's Patient as entity, the
// element and identifier that collided in the description.
func ConflictAuditEvent(c IdentityConflict) []byte {
	at := c.At
	if at.IsZero() {
		at = time.Now().UTC()
	}
	desc := "identity conflict on " + c.Element + " (" + c.Key + "): sent " + c.Sent + "; stored " + c.Stored + "; disagree on " + c.Disagrees
	ev := map[string]any{
		"resourceType": "AuditEvent",
		"type":         map[string]any{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": AuditTypeSecurityAlert, "display": "Security Alert"},
		"subtype":      []any{map[string]any{"system": "https://fhir.aitgw.org/ig/ait/CodeSystem/ait", "code": AuditSubtypeIdentityConflict, "display": "Identity conflict refused"}},
		"action":       "C",
		"recorded":     at.UTC().Format(time.RFC3339Nano),
		"outcome":      "4",
		"outcomeDesc":  desc,
		"agent": []any{map[string]any{
			"type":      map[string]any{"coding": []any{map[string]any{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110150", "display": "Application"}}},
			"who":       map[string]any{"display": "aitgw intake"},
			"requestor": false,
		}},
		"source": map[string]any{"observer": map[string]any{"display": "aitgw"}},
	}
	var entities []any
	if strings.HasPrefix(c.Stored, "Patient/") {
		entities = append(entities, map[string]any{
			"what": map[string]any{"reference": c.Stored},
			"type": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
			"role": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
		})
	}
	entities = append(entities, map[string]any{
		"what":        map[string]any{"display": c.Key},
		"description": c.Element + " disagrees on " + c.Disagrees,
	})
	ev["entity"] = entities
	b, _ := json.Marshal(ev)
	return b
}
