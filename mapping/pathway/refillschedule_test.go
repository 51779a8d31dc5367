package pathway

import (
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping"
)

// refillActivity returns the refill activity's detail of the stored CarePlan.
func refillActivity(t *testing.T, w *world, id string) object {
	t.Helper()
	cp := decode(w.careplan(t, id).Body)
	for _, a := range objs(cp, "activity") {
		d := obj(a, "detail")
		if hasCode([]object{obj(d, "code")}, mapping.CodeSystemAIT, "refill") {
			return d
		}
	}
	t.Fatal("no refill activity")
	return nil
}

func extDate(d object, url string) string {
	for _, e := range objs(d, "extension") {
		if str(e, "url") == url {
			return str(e, "valueDateTime")
		}
	}
	return ""
}

// TestNextRefillComputedAndScheduled (000 §XIII, 001): a refill of 20 mL at 0.5 mL/d
// runs dry 40 days later (16 May 2026); the next refill is computed 3 days before (13
// May), returned with the write, stored on the refill Procedure itself (in its one
// version) and recorded on the CarePlan's refill activity beside the
// EHR's later date (25 May, after the dry date), with a warning saying why; the
// pathway schedules the computed date, and the sweep alerts when it passes.
func TestNextRefillComputedAndScheduled(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	c := newCast(t, w)
	for _, s := range pathwaySteps(d, c) {
		if strings.HasPrefix(s.Name, "refill") || s.Name == "complication" {
			break
		}
		w.create(t, string(s.Body))
	}
	w.notes.take()
	body := decode(refillWith(c, d.patient, "2026-04-06T10:00:00+02:00", "2026-05-25T09:00:00+02:00", 20, 0.5))
	body["basedOn"] = []any{map[string]any{"reference": d.referral}}
	resp, err := w.post(kit.JSON(body))
	if err != nil {
		t.Fatal(fhir.AsError(err).Outcome.JSON())
	}
	if !warned(resp, "next refill computed: 2026-05-13") {
		t.Errorf("computed date not returned: %s", resp.Outcome.JSON())
	}
	if !warned(resp, "differs from the date computed from the reservoir (2026-05-13): after the day the pump runs dry (2026-05-16)") {
		t.Errorf("no warning on the differing dates: %s", resp.Outcome.JSON())
	}
	proc := w.stored(t, "Procedure/"+resp.Record.ID)
	if got := extDate(proc, mapping.ExtComputedNextRefill); got != "2026-05-13T08:00:00Z" {
		t.Errorf("computed date on the refill Procedure: %q", got)
	}
	act := refillActivity(t, w, d.careplan)
	if got := extDate(act, mapping.ExtComputedNextRefill); got != extDate(proc, mapping.ExtComputedNextRefill) {
		t.Errorf("computed date on the CarePlan: %q", got)
	}
	if got := extDate(act, mapping.ExtNextRefill); got != "2026-05-25T07:00:00Z" {
		t.Errorf("the EHR's date on the CarePlan: %q", got)
	}
	if end := str(obj(act, "scheduledPeriod"), "end"); end != "2026-05-13T21:59:59Z" {
		t.Errorf("refill scheduled until %s, want the end of 13 May in Paris", end)
	}
	n, err := SweepOverdue(ctx, w.svc, w.notes, mustTime(t, "2026-05-13T21:00:00Z"))
	if err != nil || n != 0 {
		t.Errorf("swept on the refill day: %d %v", n, err)
	}
	n, err = SweepOverdue(ctx, w.svc, w.notes, mustTime(t, "2026-05-14T08:00:00Z"))
	ns := told(w.notes.take())
	if err != nil || n != 1 || !strings.HasSuffix(ns, "refill-overdue>algologist="+c.Algologist+"|refill-centre-physician="+c.Refiller) {
		t.Errorf("refill date passed without a refill: %d flagged, %v, notices %s", n, err, ns)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFirstRefillComputedAtDischarge (000 §XI): the pump filled at implantation on 24
// March with 20 mL at 0.5 mL/d runs dry on 3 May; the discharge on 31 March gets the
// first refill computed from the filling, 30 April, stored on the discharge Encounter
// itself and on the CarePlan, before the EHR's 28 April kept as the earlier one.
func TestFirstRefillComputedAtDischarge(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	c := newCast(t, w)
	for _, s := range pathwaySteps(d, c) {
		body := decode(s.Body)
		if s.Name == "implantation" {
			body["extension"] = []any{
				map[string]any{"url": mapping.ExtVolumeInstilled, "valueQuantity": map[string]any{"value": 20, "code": "mL", "system": mapping.SystemUCUM}},
				map[string]any{"url": mapping.ExtFlowRate, "valueQuantity": map[string]any{"value": 0.5, "code": "mL/d", "system": mapping.SystemUCUM}}}
		}
		resp, err := w.post(kit.JSON(body))
		if err != nil {
			t.Fatalf("%s: %s", s.Name, fhir.AsError(err).Outcome.JSON())
		}
		if s.Name == "discharge" {
			if !warned(resp, "next refill computed: 2026-04-30") {
				t.Errorf("discharge: %s", resp.Outcome.JSON())
			}
			enc := w.stored(t, "Encounter/"+resp.Record.ID)
			if got := extDate(enc, mapping.ExtComputedNextRefill); !strings.HasPrefix(got, "2026-04-30") {
				t.Errorf("computed first refill on the discharge Encounter: %q", got)
			}
			if got := extDate(enc, mapping.ExtNextRefill); got != "2026-04-28T09:00:00Z" {
				t.Errorf("the EHR's first refill on the discharge Encounter: %q, want it as sent", got)
			}
			break
		}
	}
	act := refillActivity(t, w, d.careplan)
	if got := extDate(act, mapping.ExtComputedNextRefill); !strings.HasPrefix(got, "2026-04-30") {
		t.Errorf("computed first refill on the CarePlan: %q", got)
	}
	if end := str(obj(act, "scheduledPeriod"), "end"); end != "2026-04-28T21:59:59Z" {
		t.Errorf("first refill scheduled until %s, want the EHR's earlier 28 April", end)
	}
}
