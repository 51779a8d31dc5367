package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/pathway"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/notify"
)

// wirePathway runs the AIT and IR pathways on write: the hook advances the patient's
// CarePlan in the same transaction as the step resource and hands the milestones to
// the notifier, which records the Communications and queues their deliveries in that
// same commit. It registers the clinical operations. Identity conflicts the hook
// refuses are audited in trail, the audit trail's store.
func wirePathway(srv *server.Server, svc *rest.Service, trail fhir.Store, logger *slog.Logger) func(ctx context.Context) {
	n := &notify.Notifier{}
	notifier := pathway.NotifierFunc(func(ctx context.Context, w *rest.Writer, no pathway.Notice) ([]fhir.Issue, error) {
		return n.OnMilestone(ctx, w, milestoneOf(no))
	})
	auditor := pathway.NewConflictAuditor(trail, svc, logger)
	svc.Hooks = append(svc.Hooks, &pathway.Hook{Notifier: notifier, Audit: auditor.Record})
	// one way in: a transaction carrying a referral gets the intake of $ait-referral
	srv.HandleBundles(pathway.ReferralTransaction(svc))
	// the implementer page, generated from the recognition and rule tables, with the
	// conformance kit's steps as its examples
	examples := kit.Examples()
	for path, lang := range map[string]string{"/ig/": "en", "/ig/fr/": "fr"} {
		page := pathway.ImplementerPage(lang, examples)
		srv.Engine().GET(path, func(c *gin.Context) {
			// a static page: no script, its one inline style block, nothing fetched
			c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
			c.Header("X-Content-Type-Options", "nosniff")
			c.Data(http.StatusOK, "text/html; charset=utf-8", page)
		})
	}
	// the pathway state is the gateway's: clients write steps, never CarePlans
	state := pathway.GatewayState(svc)
	srv.Use(func(c *gin.Context) {
		if err := state(c.Request.Context(), server.RequestFrom(c)); err != nil {
			fe := fhir.AsError(err)
			c.Data(fe.Status, server.ContentType, fe.Outcome.JSON())
			c.Abort()
		}
	})
	ops := srv.Operations()
	ops.Add(&server.Operation{Name: "ait-dossier-status", Types: []string{"ServiceRequest"}, Instance: true,
		Definition: operationBase + "ait-dossier-status", Run: pathway.DossierStatus(svc)})
	ops.Add(&server.Operation{Name: "mirels", Types: []string{"Observation"}, Type: true,
		Definition: operationBase + "mirels", Run: pathway.Mirels(svc)})
	ops.Add(&server.Operation{Name: "sins", Types: []string{"Observation"}, Type: true,
		Definition: operationBase + "sins", Run: pathway.SINS(svc)})
	ops.Add(&server.Operation{Name: "ait-referral", System: true, Write: true,
		Definition: operationBase + "ait-referral", Run: pathway.Referral(svc)})
	// deadlines pass without anyone writing: sweep the pathways for overdue steps
	// (000 §VI-§XIII) and raise their milestones
	return func(ctx context.Context) {
		go auditor.Run(ctx) // identity conflicts, audited outside the refused write
		// pathways written before their state was kept apart get their record once
		if n, err := pathway.RecordLegacyStates(ctx, svc); err != nil {
			logger.Error("pathway states not recorded", "error", err.Error())
		} else if n > 0 {
			logger.Info("pathway states recorded", "pathways", n)
		}
		tick := time.NewTicker(overdueSweep)
		defer tick.Stop()
		for {
			if _, err := pathway.SweepOverdue(ctx, svc, notifier, time.Now()); err != nil && ctx.Err() == nil {
				logger.Error("overdue sweep failed", "error", err.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
}

// overdueSweep is how often the pathways are checked for passed deadlines.
const overdueSweep = 5 * time.Minute

// operationBase is where the AIT guide's operations are defined.
const operationBase = mapping.Base + "/OperationDefinition/"

// milestoneOf hands a pathway notice to the notifier.
func milestoneOf(n pathway.Notice) notify.Milestone {
	m := notify.Milestone{Code: n.Code, Display: n.Display, SeedSection: n.SeedSection, Patient: n.Patient,
		About: n.About, Coordinator: n.Coordinator, Facts: n.Facts, EventTime: n.At}
	for _, r := range n.Recipients {
		m.Recipients = append(m.Recipients, notify.Recipient{Role: r.Role, Reference: r.Reference})
	}
	return m
}
