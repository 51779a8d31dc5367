package pathway

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// TestPathwayStateIsNeverReadFromTheCarePlan: a CarePlan rewritten behind the
// gateway's back (here past the HTTP guard, straight through the service) with a
// forged state (RCP accepted, consent given) changes nothing: the planning step is
// still refused for want of an accepted RCP decision, because the state is the
// gateway's record, not the CarePlan's extension.
func TestPathwayStateIsNeverReadFromTheCarePlan(t *testing.T) {
	w := newWorld(t)
	w.svc.Hooks = []rest.WriteHook{&Hook{Notifier: w.notes}}
	_, d := postReferral(t, w)
	rec := w.careplan(t, d.careplan)
	p, err := mapping.PathwayFromCarePlan(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	forged := p
	forged.Facts = map[string]mapping.Fact{}
	for k, v := range p.Facts {
		forged.Facts[k] = v
	}
	at := p.Facts[rules.FactReferral].At
	forged.Facts[rules.FactRCPDecision] = mapping.Fact{At: at, Seq: 10}
	forged.Facts[rules.FactRCPAccepted] = mapping.Fact{At: at, Seq: 11}
	forged.Facts[rules.FactConsent] = mapping.Fact{At: at, Seq: 12}
	cp := decode(mapping.CarePlanJSON(forged))
	cp["id"] = d.careplan
	body, _ := json.Marshal(cp)
	if _, err := w.svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "CarePlan", ID: d.careplan, Body: body}); err != nil {
		t.Fatalf("forging the CarePlan: %s", fhir.AsError(err).Outcome.JSON())
	}
	c := newCast(t, w)
	planning := pathwaySteps(d, c)[3].Body
	_, err = w.svc.Create(ctx, &rest.Request{Method: http.MethodPost, Type: "ServiceRequest", Body: planning})
	if err == nil || !strings.Contains(string(fhir.AsError(err).Outcome.JSON()), "accepted RCP") {
		t.Errorf("planning on a forged state: %v, want 422 for want of an accepted RCP decision", err)
	}
}

// TestLegacyPathwayRebuiltFromItsSteps: a pathway the gateway has no state record of
// gets one rebuilt from its referral and step resources, not from its CarePlan: the
// same facts, technique and planned date as the record kept step by step, even when
// the CarePlan's extension was forged.
func TestLegacyPathwayRebuiltFromItsSteps(t *testing.T) {
	w := newWorld(t)
	w.svc.Hooks = []rest.WriteHook{&Hook{Notifier: w.notes}}
	_, d := postReferral(t, w)
	c := newCast(t, w)
	for _, s := range pathwaySteps(d, c)[:7] { // to the implantation
		if _, err := w.post(s.Body); err != nil {
			t.Fatalf("%s: %s", s.Name, fhir.AsError(err).Outcome.JSON())
		}
	}
	state := func() (mapping.Pathway, bool) {
		var raw []byte
		if err := w.svc.Store.View(ctx, func(tx fhir.Tx) error {
			var err error
			raw, err = tx.GetAux(stateNS, d.careplan)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var p mapping.Pathway
		return p, raw != nil && json.Unmarshal(raw, &p) == nil
	}
	kept, ok := state()
	if !ok {
		t.Fatal("no state record after the steps")
	}
	// a legacy pathway: no record, and a CarePlan whose extension says something else
	if err := w.svc.Store.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux(stateNS, d.careplan, nil) }); err != nil {
		t.Fatal(err)
	}
	forged := kept
	forged.Facts = map[string]mapping.Fact{rules.FactReferral: kept.Facts[rules.FactReferral], rules.FactRefill: kept.Facts[rules.FactReferral]}
	forged.Technique = rules.TechniquePort.Code
	cp := decode(mapping.CarePlanJSON(forged))
	cp["id"] = d.careplan
	body, _ := json.Marshal(cp)
	if _, err := w.svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "CarePlan", ID: d.careplan, Body: body}); err != nil {
		t.Fatalf("forging the CarePlan: %s", fhir.AsError(err).Outcome.JSON())
	}
	if n, err := RecordLegacyStates(ctx, w.svc); err != nil || n != 1 {
		t.Fatalf("RecordLegacyStates: %d %v", n, err)
	}
	rebuilt, ok := state()
	if !ok {
		t.Fatal("no state record rebuilt")
	}
	var a, b []string
	for f := range kept.Facts {
		a = append(a, f)
	}
	for f := range rebuilt.Facts {
		b = append(b, f)
	}
	sort.Strings(a)
	sort.Strings(b)
	if strings.Join(a, ",") != strings.Join(b, ",") || kept.Technique != rebuilt.Technique ||
		!kept.PlannedImplantation.Equal(rebuilt.PlannedImplantation) || kept.Stopped != rebuilt.Stopped {
		t.Errorf("rebuilt from the steps:\n got %v %s %s\nwant %v %s %s", b, rebuilt.Technique, rebuilt.PlannedImplantation, a, kept.Technique, kept.PlannedImplantation)
	}
}

// TestLegacyPathwayRebuiltOnItsNextStep: a pathway without a state record takes its
// next step: the state is rebuilt from the steps before it (the one being written
// left out, then applied once).
func TestLegacyPathwayRebuiltOnItsNextStep(t *testing.T) {
	w := newWorld(t)
	w.svc.Hooks = []rest.WriteHook{&Hook{Notifier: w.notes}}
	_, d := postReferral(t, w)
	c := newCast(t, w)
	steps := pathwaySteps(d, c)
	for _, s := range steps[:3] { // the RCP and the consultations
		if _, err := w.post(s.Body); err != nil {
			t.Fatalf("%s: %s", s.Name, fhir.AsError(err).Outcome.JSON())
		}
	}
	if err := w.svc.Store.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux(stateNS, d.careplan, nil) }); err != nil {
		t.Fatal(err)
	}
	if _, err := w.post(steps[3].Body); err != nil { // planning needs the RCP and the consent, from the rebuild
		t.Fatalf("planning on a legacy pathway: %s", fhir.AsError(err).Outcome.JSON())
	}
	if got, want := statusesOf(t, w, d.careplan), steps[3].Want; got != want {
		t.Errorf("CarePlan after planning: %s, want %s", got, want)
	}
}

// statusesOf renders the stored CarePlan's activity statuses as the kit does.
func statusesOf(t *testing.T, w *world, id string) string {
	t.Helper()
	return kit.Statuses(w.careplan(t, id).Body)
}
