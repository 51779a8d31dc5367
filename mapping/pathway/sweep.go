package pathway

import (
	"context"
	"net/url"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// SweepOverdue flags the deadlines passed at now on every active pathway CarePlan
// (000 §VI-§XIII, 003: mapping.CheckOverdue) and raises the overdue milestones to the
// coordinating algologist (a refill date passed without a refill: also to the
// physicians of the refill centre of the last refill, 000 §XIII), one transaction per
// CarePlan so that the flag and its milestone commit together. Deadlines count
// calendar days in the site's time zone (rules.Zone). A deadline already flagged is not raised again. It
// returns how many CarePlans it flagged. The gateway runs it every few minutes.
func SweepOverdue(ctx context.Context, svc *rest.Service, notifier Notifier, now time.Time) (int, error) {
	q := "status=active&category=" + url.QueryEscape(mapping.CodeSystemAIT+"|"+mapping.CodePathwayCategory+","+mapping.CodeSystemAIT+"|"+mapping.CodeIRCategory)
	var ids []string
	if err := svc.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		ids, err = svc.Engine.Match(tx, "CarePlan", q)
		return err
	}); err != nil {
		return 0, err
	}
	h := &Hook{Notifier: notifier}
	flagged := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return flagged, err
		}
		did := false
		err := svc.Write(ctx, func(w *rest.Writer) error {
			did = false // fn may run again
			body, err := current(w.Tx(), "CarePlan", id)
			if err != nil || body == nil {
				return err
			}
			p, err := loadPathway(w, id, "")
			if err != nil {
				return nil // not a pathway the gateway keeps: left alone
			}
			p2, ms := mapping.CheckOverdue(p, now)
			if len(ms) == 0 {
				return nil
			}
			if err := savePathway(w, id, p2); err != nil {
				return err
			}
			did = true
			step, err := lastRefill(w, p2, ms)
			if err != nil {
				return err
			}
			return h.notify(ctx, w, p2, step, []string{"CarePlan/" + id}, ms)
		})
		if err != nil {
			return flagged, err
		}
		if did {
			flagged++
		}
	}
	return flagged, nil
}

// lastRefill is the patient's latest refill Procedure when a milestone is a refill
// overdue: its performer names the refill centre whose physicians are alerted.
func lastRefill(w *rest.Writer, p mapping.Pathway, ms []mapping.Milestone) (object, error) {
	due := false
	for _, m := range ms {
		due = due || m.Code == rules.MilestoneRefillOverdue
	}
	if !due || p.Subject == "" {
		return nil, nil
	}
	procs, err := ofPatient(w, "Procedure", p.Subject)
	if err != nil {
		return nil, err
	}
	var last object
	for _, b := range procs {
		m := decode(b)
		if hasCode([]object{obj(m, "code")}, mapping.CodeSystemAIT, mapping.CodeRefill) &&
			(last == nil || str(m, "performedDateTime") > str(last, "performedDateTime")) {
			last = m
		}
	}
	return last, nil
}
