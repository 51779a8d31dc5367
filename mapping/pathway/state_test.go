package pathway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

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
