package pathway

import (
	"context"
	"net/url"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// SweepOverdue flags the deadlines passed at now on every active pathway CarePlan
// (000 §VI-§XIII, 003: mapping.CheckOverdue) and raises the overdue milestones to the
// coordinating algologist, one transaction per CarePlan so that the flag and its
// milestone commit together. A deadline already flagged is not raised again. It
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
			return h.notify(ctx, w, p2, nil, []string{"CarePlan/" + id}, ms)
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
