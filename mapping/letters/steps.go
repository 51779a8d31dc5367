package letters

import (
	"sort"
	"strings"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// implantation: date, implanter, pump, reservoir, catheter tip (000 §X).
func (g *gather) implantation() {
	var proc object
	if g.step != nil && hasCode([]object{obj(g.step, "code")}, mapping.CodeSystemAIT, mapping.CodeImplantation) {
		proc = g.step
	}
	if proc == nil {
		for _, p := range g.rd.search("Procedure", g.ev.Patient) {
			if hasCode([]object{obj(p, "code")}, mapping.CodeSystemAIT, mapping.CodeImplantation) {
				proc = p
			}
		}
	}
	if proc == nil {
		return
	}
	g.f.set("implantDate", eventDate(proc))
	for _, pf := range objs(proc, "performer") {
		g.f.set("implanter", g.rd.party(ref(pf, "actor")).String())
	}
	var dev object
	for _, fd := range objs(proc, "focalDevice") {
		if d := g.rd.get(ref(fd, "manipulated")); d != nil {
			dev = d
		}
	}
	if dev == nil {
		for _, d := range g.rd.search("Device", g.ev.Patient) {
			dev = d
		}
	}
	tip := ""
	for _, bs := range objs(proc, "bodySite") {
		if t := conceptText(bs); strings.Contains(strings.ToLower(t), "tip") || strings.Contains(strings.ToLower(t), "cathéter") {
			tip = t
		}
	}
	if dev != nil {
		var name []string
		if m := str(dev, "manufacturer"); m != "" {
			name = append(name, m)
		}
		for _, n := range objs(dev, "deviceName") {
			name = append(name, str(n, "name"))
			break
		}
		if mn := str(dev, "modelNumber"); mn != "" {
			name = append(name, "modèle "+mn)
		}
		g.f.set("pump", strings.Join(name, " "))
		for _, p := range objs(dev, "property") {
			switch {
			case hasCode([]object{obj(p, "type")}, mapping.CodeSystemAIT, "reservoir-volume"):
				for _, q := range objs(p, "valueQuantity") {
					g.f.set("reservoir", quantity(q))
				}
			case hasCode([]object{obj(p, "type")}, mapping.CodeSystemAIT, "catheter-tip-level"):
				for _, c := range objs(p, "valueCode") {
					if lvl := conceptText(c); lvl != "" {
						tip = "niveau vertébral " + lvl
					}
				}
			}
		}
		if owner := g.rd.party(ref(dev, "owner")); owner.Contact() != "" {
			g.f.set("hotline", owner.Name+", "+owner.Contact())
		}
	}
	g.f.set("catheterTip", tip)
}

// prescription: the molecules with concentrations and daily doses (000 §IX), from
// the MedicationRequest given, else the patient's latest intrathecal prescription.
func (g *gather) prescription(req object) object {
	if req == nil {
		// the prescription in force at the step: the latest one not after it
		cut := dateOf(g.step)
		if cut.IsZero() {
			cut = g.ev.At
		}
		for _, m := range g.rd.search("MedicationRequest", g.ev.Patient) {
			b, _ := marshal(m)
			if mapping.IsIntrathecalPrescription(b) && (cut.IsZero() || !dateOf(m).After(cut)) {
				req = m
			}
		}
	}
	if req == nil {
		return nil
	}
	lines, flow := mixture(req, g.rd)
	g.f.set("molecules", list(lines))
	g.f.set("flow", flow)
	return req
}

// discharge: discharge date, first refill, refill centre (000 §XI).
func (g *gather) discharge() {
	enc := g.encounterOf(rules.FactDischarge)
	if g.step != nil && hasCode(objs(g.step, "type"), mapping.CodeSystemAIT, rules.FactDischarge) {
		enc = g.step
	}
	var centre Party
	if enc != nil {
		g.f.set("dischargeDate", eventDate(enc))
		if e := ext(enc, mapping.ExtNextRefill); e != nil {
			g.f.set("firstRefill", frenchFHIRDate(str(e, "valueDateTime")))
		}
		centre = g.rd.party(ref(enc, "serviceProvider"))
	}
	if g.f["firstRefill"] == "" && g.hasPlan {
		if f, ok := g.plan.Facts[rules.FactRefillDue]; ok {
			g.f.set("firstRefill", FrenchDate(f.At))
		}
	}
	if centre.Name == "" {
		for _, p := range g.rd.search("Procedure", g.ev.Patient) {
			for _, pf := range objs(p, "performer") {
				if c := g.rd.party(ref(pf, "onBehalfOf")); c.Name != "" {
					centre = c
				}
			}
		}
	}
	g.f.set("refillCentre", centre.Name)
	g.f.set("refillCentreContact", centre.Contact())
	if g.f["hotline"] == "" {
		if a := g.rd.party(g.ev.Coordinator); a.Contact() != "" {
			g.f.set("hotline", a.String()+", "+a.Contact())
		}
	}
}

// refill: the refill's drugs, volume, next date and dose changes (000 §XIII).
func (g *gather) refill() {
	proc := g.step
	if proc == nil || !hasCode([]object{obj(proc, "code")}, mapping.CodeSystemAIT, mapping.CodeRefill) {
		return
	}
	g.f.set("refillDate", eventDate(proc))
	if e := ext(proc, mapping.ExtVolumeInstilled); e != nil {
		g.f.set("volume", quantity(obj(e, "valueQuantity")))
	}
	if e := ext(proc, mapping.ExtNextRefill); e != nil {
		g.f.set("nextRefill", frenchFHIRDate(str(e, "valueDateTime")))
	}
	var req object
	if e := ext(proc, mapping.Base+"/StructureDefinition/ait-prescription"); e != nil {
		req = g.rd.get(ref(e, "valueReference"))
	}
	req = g.prescription(req)
	if e := ext(proc, mapping.ExtFlowRate); e != nil {
		g.f.set("flow", quantity(obj(e, "valueQuantity")))
	}
	g.f.set("doseChanges", g.doseChanges(req))
}

// doseChanges compares the refill's prescription with the one before it.
func (g *gather) doseChanges(req object) string {
	if req == nil {
		return ""
	}
	var prev object
	at := dateOf(req)
	for _, m := range g.rd.search("MedicationRequest", g.ev.Patient) {
		b, _ := marshal(m)
		if str(m, "id") != str(req, "id") && mapping.IsIntrathecalPrescription(b) && dateOf(m).Before(at) {
			prev = m
		}
	}
	if prev == nil {
		return "première prescription, pas de modification"
	}
	cur, _ := marshal(req)
	old, _ := marshal(prev)
	now, before := mapping.PrescribedDoses(cur, nil), mapping.PrescribedDoses(old, nil)
	var mols []string
	for m := range now {
		mols = append(mols, m)
	}
	for m := range before {
		if _, ok := now[m]; !ok {
			mols = append(mols, m)
		}
	}
	sort.Strings(mols)
	var changes []string
	for _, m := range mols {
		lim, _ := rules.LimitFor(m)
		u := frenchUnit(lim.DoseUnit)
		a, hadA := before[m]
		b, hasB := now[m]
		switch {
		case !hadA:
			changes = append(changes, sprintf("%s introduit(e) à %s %s", m, decimal(b.PerDay), u))
		case !hasB:
			changes = append(changes, sprintf("%s arrêté(e) (était %s %s)", m, decimal(a.PerDay), u))
		case a.PerDay != b.PerDay:
			changes = append(changes, sprintf("%s %s → %s %s", m, decimal(a.PerDay), decimal(b.PerDay), u))
		}
	}
	if len(changes) == 0 {
		return "doses inchangées depuis la prescription du " + FrenchDay(dateOf(prev))
	}
	return join(changes)
}

// complication: what and when (000 §X).
func (g *gather) complication() {
	if g.step == nil {
		return
	}
	g.f.set("complicationDate", eventDate(g.step))
	var what []string
	for _, k := range []string{"reasonCode", "diagnosis", "note", "type", "code"} {
		for _, cc := range objs(g.step, k) {
			if k == "note" {
				what = append(what, str(cc, "text"))
				continue
			}
			if k == "diagnosis" {
				if c := g.rd.get(ref(cc, "condition")); c != nil {
					what = append(what, conceptText(obj(c, "code")))
				}
				continue
			}
			if t := conceptText(cc); t != "" && t != rules.FactComplication {
				what = append(what, t)
			}
		}
	}
	g.f.set("complication", join(what))
}

// alert: what, since when, who acts. The pathway engine's detail (an overdue
// deadline "why: due <date> (section)", a dry pump "dry on <date>, refill scheduled
// <date> (section)") is read back into French.
func (g *gather) alert() {
	detail := g.ev.Detail
	if !g.ev.At.IsZero() {
		g.f.set("since", FrenchDate(g.ev.At))
	}
	switch g.ev.Code {
	case rules.MilestoneOverdue, rules.MilestoneRefillOverdue:
		what := detail
		for _, d := range rules.Deadlines {
			if strings.HasPrefix(detail, d.Why) {
				if fr, ok := rules.DeadlineLabels[d.Name]; ok {
					what = fr + " (" + rules.Cite(d.Section) + ")"
				}
			}
		}
		g.f.set("what", what)
		if i := strings.Index(detail, "due "); i >= 0 {
			if t, ok := parseDate(strings.Fields(detail[i+4:])[0]); ok {
				g.f.set("since", "échéance dépassée depuis le "+FrenchDate(t))
			}
		}
	case rules.MilestonePumpDry:
		var dry, sched string
		if i := strings.Index(detail, "dry on "); i >= 0 {
			if t, ok := parseDate(strings.Trim(strings.Fields(detail[i+7:])[0], ",")); ok {
				dry = FrenchDay(t)
			}
		}
		if i := strings.Index(detail, "scheduled "); i >= 0 {
			if t, ok := parseDate(strings.Fields(detail[i+10:])[0]); ok {
				sched = FrenchDay(t)
			}
		}
		if dry != "" && sched != "" {
			g.f.set("what", "réservoir vide le "+dry+", remplissage prévu le "+sched)
		}
		if g.step != nil {
			g.f.set("since", eventDate(g.step))
		}
	default:
		g.f.set("what", detail)
	}
	if a := g.rd.party(g.ev.Coordinator); a.Name != "" {
		g.f.set("who", "l'algologue coordonnateur, "+a.String())
	} else {
		g.f.set("who", "l'algologue coordonnateur du centre d'implantation")
	}
}

// ir: the IR RCP decision, the act, the 1-month follow-up (003).
func (g *gather) ir() {
	if g.step == nil {
		return
	}
	if g.ev.Code == "ir-rcp-decision" {
		g.f.set("rcpDate", eventDate(g.step))
		var dec []string
		for _, k := range []string{"outcome", "note"} {
			for _, o := range objs(g.step, k) {
				if k == "note" {
					dec = append(dec, str(o, "text"))
				} else {
					dec = append(dec, conceptText(o))
				}
			}
		}
		for _, o := range objs(g.step, "output") {
			dec = append(dec, conceptText(obj(o, "valueCodeableConcept")))
		}
		g.f.set("irDecision", join(nonEmpty(dec)))
		var acts []string
		for _, rc := range objs(g.step, "reasonCode") {
			acts = append(acts, conceptText(rc))
		}
		g.f.set("irAct", join(nonEmpty(acts)))
		return
	}
	g.f.set("irDate", eventDate(g.step))
	act := ""
	for _, c := range codings(obj(g.step, "code")) {
		if fr, ok := rules.IRActLabels[str(c, "code")]; ok {
			act = fr
		} else if d := str(c, "display"); d != "" && act == "" {
			act = d
		} else if code := str(c, "code"); code != rules.FactIRProcedure && act == "" {
			act = code
		}
	}
	var sites []string
	for _, bs := range objs(g.step, "bodySite") {
		sites = append(sites, conceptText(bs))
	}
	if len(sites) > 0 && act != "" {
		act += " (" + join(sites) + ")"
	}
	g.f.set("irAct", act)
	if at := dateOf(g.step); !at.IsZero() {
		d, _ := rules.DeadlineByName("ir-follow-up-1m")
		g.f.set("irFollowUp", FrenchDay(d.Max.AddTo(at)))
	}
}

func nonEmpty(s []string) []string {
	var out []string
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			out = append(out, x)
		}
	}
	return out
}
