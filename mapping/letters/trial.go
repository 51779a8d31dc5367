package letters

import (
	"math"
	"time"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// trial: the result, the figures it was judged on and the decision (002). The result
// is computed again from the pain scores and the medication posted before and during
// the trial (mapping.TrialFromRecords), as the gateway checked it when the step was
// recorded; without them, the step's own code (trial-positive or trial-negative)
// gives the result and the figures are named as missing.
func (g *gather) trial() {
	if g.step == nil {
		return
	}
	at := dateOf(g.step)
	positive := !hasCode(stepConcepts(g.step), mapping.CodeSystemAIT, rules.FactTrialNegative)
	var start time.Time
	if g.hasPlan {
		if f, ok := g.plan.Facts[rules.FactTrialStart]; ok {
			start = f.At
		}
	}
	if start.IsZero() {
		start = dateOf(g.encounterOf(rules.FactTrialStart))
	}
	th := rules.TrialRelief
	why := ""
	if !start.IsZero() && !at.IsZero() {
		obs := g.raw("Observation")
		meds := append(g.raw("MedicationStatement"), g.raw("MedicationRequest")...)
		before, bAt, during, dAt := mapping.TrialPainScores(start, at, obs)
		if r, err := mapping.TrialFromRecords(start, at, obs, meds); err == nil {
			positive = r.Positive
			reduced := r.OMEAfter < r.OMEBefore
			g.f.set("trialFigures", sprintf("douleur %s/10 avant l'essai (%s), %s/10 pendant (%s), soit %s %% de soulagement (au moins %s %% requis) ; "+
				"équivalent morphine orale %s mg/j avant, %s mg/j pendant (%s)",
				decimal(before), FrenchDay(bAt), decimal(during), FrenchDay(dAt), decimal(whole(r.ReliefPc)), decimal(th.Value),
				decimal(whole(r.OMEBefore)), decimal(whole(r.OMEAfter)), map[bool]string{true: "traitements réduits", false: "traitements non réduits"}[reduced]))
			switch {
			case positive:
				why = "soulagement d'au moins 50 % avec une réduction des traitements"
			case r.ReliefPc < th.Value && !reduced:
				why = "soulagement inférieur à 50 % et traitements non réduits"
			case r.ReliefPc < th.Value:
				why = "soulagement inférieur à 50 %"
			default:
				why = "traitements non réduits"
			}
		}
	}
	res := "négatif"
	if positive {
		res = "positif"
	}
	if why != "" {
		res += " (" + why + ")"
	}
	if d := eventDate(g.step); d != "" {
		res += ", le " + d
	}
	var notes []string
	for _, n := range objs(g.step, "note") {
		notes = append(notes, str(n, "text"))
	}
	for _, rc := range objs(g.step, "reasonCode") {
		if t := conceptText(rc); t != "" {
			notes = append(notes, t)
		}
	}
	if len(notes) > 0 {
		res += " ; " + join(notes)
	}
	g.f.set("trialResult", res)
	if positive {
		g.f.set("trialDecision", "pose de la pompe intrathécale définitive, après accord de l'assurance (demande d'accord à adresser)")
	} else {
		g.f.set("trialDecision", "pas de pompe intrathécale définitive : l'essai ne remplit pas les critères ("+rules.Cite(th.Section)+")")
	}
}

// stepConcepts are the concepts a step resource carries its step code in.
func stepConcepts(m object) []object {
	var out []object
	for _, k := range []string{"type", "code", "category", "class", "outcome", "reasonCode"} {
		out = append(out, objs(m, k)...)
	}
	return out
}

// raw returns the patient's resources of typ as JSON, for the mapping package's
// judges.
func (g *gather) raw(typ string) [][]byte {
	var out [][]byte
	for _, m := range g.rd.search(typ, g.ev.Patient) {
		if b, err := jsonOf(m); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// whole rounds to the unit (a relief in %, an OME in mg/d).
func whole(v float64) float64 { return math.Round(v) }
