package letters

import (
	"strings"
	"time"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Event is the milestone a letter tells about, as the notification service has it.
type Event struct {
	// Code is the milestone (rules.Milestones) or alert (rules.Alerts) code.
	Code string
	// Patient is "Patient/id".
	Patient string
	// About are the resources the milestone is about: the step resource first, then
	// the pathway CarePlan.
	About []string
	// At is when the milestone happened.
	At time.Time
	// Detail is the pathway engine's short text (an overdue deadline, a dry pump).
	Detail string
	// Coordinator is the coordinating algologist (CarePlan.author).
	Coordinator string
	// Facts are facts the caller already knows (the alerts'); they win over gathered ones.
	Facts map[string]string
}

// Facts are the values a letter prints, by rules.LetterFacts key.
type Facts map[string]string

func (f Facts) set(k, v string) {
	if strings.TrimSpace(v) != "" {
		f[k] = v
	}
}

// gather reads what the milestone's letter needs.
type gather struct {
	rd      *reader
	ev      Event
	f       Facts
	step    object // the step resource of the milestone
	plan    mapping.Pathway
	hasPlan bool
	sr      object // the referral
}

// Gather reads the facts of a milestone's letter from the pathway's resources. A
// fact it cannot find is left out: the letter names it as missing.
func Gather(r mapping.Records, ev Event) Facts {
	g := &gather{rd: &reader{r: r, cache: map[string]object{}}, ev: ev, f: Facts{}}
	if len(ev.About) > 0 {
		g.step = g.rd.get(ev.About[0])
	}
	for _, a := range ev.About {
		if strings.HasPrefix(a, "CarePlan/") {
			if cp := g.rd.get(a); cp != nil {
				b, _ := jsonOf(cp)
				if p, err := mapping.PathwayFromCarePlan(b); err == nil {
					g.plan, g.hasPlan = p, true
				}
			}
		}
		if strings.HasPrefix(a, "ServiceRequest/") && g.sr == nil {
			if sr := g.rd.get(a); sr != nil && !isPlanning(sr) {
				g.sr = sr
			}
		}
	}
	if g.sr == nil && g.hasPlan && g.plan.BasedOn != "" {
		g.sr = g.rd.get(g.plan.BasedOn)
	}
	g.referral()
	switch ev.Code {
	case "referral-received", rules.MilestoneDossierIncomplete, "planned-ait-care":
		g.dossier()
	case "rcp-decision-sent":
		g.rcp()
	case "intervention-planned":
		g.technique()
		g.planning()
	case "implantation-done", "discharge-letter":
		g.implantation()
		g.prescription(nil)
		g.discharge()
	case "refill-letter":
		g.refill()
	case "complication":
		g.complication()
		g.prescription(nil)
		g.implantation()
	case rules.MilestoneOverdue, rules.MilestonePumpDry, rules.MilestoneRefillOverdue:
		g.alert()
	case "trial-result":
		g.trial()
	case "ir-rcp-decision", "ir-procedure-done":
		g.ir()
	}
	for k, v := range ev.Facts {
		g.f.set(k, v)
	}
	return g.f
}

func isPlanning(sr object) bool {
	return hasCode([]object{obj(sr, "code")}, mapping.CodeSystemAIT, rules.FactPlanning)
}

func jsonOf(m object) ([]byte, error) { return marshal(m) }

// referral: who referred and when (000 §V).
func (g *gather) referral() {
	if g.sr == nil {
		return
	}
	g.f.set("referrer", g.rd.party(ref(g.sr, "requester")).String())
	g.f.set("referralDate", frenchFHIRDate(str(g.sr, "authoredOn")))
	if g.f["referralDate"] == "" && g.hasPlan {
		if f, ok := g.plan.Facts[rules.FactReferral]; ok {
			g.f.set("referralDate", FrenchDay(f.At))
		}
	}
}

// dossier: complete or not, and what is missing or stale (000 §V.2).
func (g *gather) dossier() {
	if g.sr == nil {
		return
	}
	d, err := mapping.LoadDossier(g.rd.r, str(g.sr, "id"))
	if err != nil {
		g.f.set("dossierStatus", "non évalué (pièces du dossier illisibles)")
		return
	}
	at := g.ev.At
	if at.IsZero() {
		at = time.Now()
	}
	issues := mapping.CheckDossier(d, at)
	if len(issues) == 0 {
		g.f.set("dossierStatus", "complet")
		g.f.set("dossierGaps", "aucun")
		return
	}
	var gaps []string
	for _, is := range issues {
		gaps = append(gaps, dossierGap(is.Diagnostics))
	}
	g.f.set("dossierStatus", sprintf("incomplet (%d élément(s) manquant(s) ou périmé(s))", len(issues)))
	g.f.set("dossierGaps", list(gaps))
}

// dossierGap renders one finding of mapping.CheckDossier in French.
func dossierGap(diag string) string {
	kind, rest, _ := strings.Cut(diag, ": ")
	label := rest
	for _, el := range rules.DossierElements {
		if strings.HasPrefix(rest, el.Display) {
			if fr, ok := rules.DossierLabels[el.Key]; ok {
				label = fr
			}
		}
	}
	if label == rest {
		for _, l := range rules.Labs {
			if strings.HasPrefix(rest, l.Display) {
				if fr, ok := rules.DossierLabels[l.Key]; ok {
					label = fr
				}
			}
		}
	}
	if i := strings.Index(label, " ("); i > 0 && label == rest {
		label = label[:i]
	}
	switch kind {
	case "missing":
		return label + " : manquant"
	case "stale":
		if i := strings.Index(rest, " dated "); i >= 0 {
			if t, ok := parseDate(strings.Fields(rest[i+7:])[0]); ok {
				return label + " : périmé (daté du " + t.Format("02/01/2006") + ")"
			}
		}
		return label + " : périmé ou non daté"
	case "out of range":
		return label + " : valeur hors des bornes du référentiel"
	}
	return label
}

// task returns the RCP Task of the milestone (the step) or the patient's latest.
func (g *gather) rcpTask() object {
	if g.step != nil && str(g.step, "resourceType") == "Task" {
		return g.step
	}
	var last object
	for _, t := range g.rd.search("Task", g.ev.Patient) {
		if hasCode([]object{obj(t, "code")}, mapping.CodeSystemAIT, mapping.CodeRCPReview) {
			last = t
		}
	}
	return last
}

// technique names the technique decided at the RCP and why (000 §VI).
func (g *gather) technique() {
	t := g.rcpTask()
	code := ""
	if g.hasPlan {
		code = g.plan.Technique
	}
	for _, o := range objs(t, "output") {
		if hasCode([]object{obj(o, "type")}, mapping.CodeSystemAIT, mapping.CodeRCPTechnique) {
			for _, c := range codings(obj(o, "valueCodeableConcept")) {
				code = str(c, "code")
			}
		}
	}
	if l, ok := rules.TechniqueLabels[code]; ok {
		g.f.set("technique", l[0])
		why := l[1]
		for _, o := range objs(t, "output") {
			if hasCode([]object{obj(o, "type")}, mapping.CodeSystemAIT, "rcp-life-expectancy-basis") {
				if le := g.rd.get(ref(o, "valueReference")); le != nil {
					if q := quantity(obj(le, "valueQuantity")); q != "" {
						why = "espérance de vie estimée à " + q + " (" + l[1] + ")"
					}
				}
			}
		}
		g.f.set("techniqueWhy", why+", selon le "+rules.Cite("000 §VI"))
	}
}

// rcp: decision, technique and why, participants, next steps (000 §VI-§VII).
func (g *gather) rcp() {
	t := g.rcpTask()
	if t == nil {
		return
	}
	at := dateOf(t)
	g.f.set("rcpDate", eventDate(t))
	for _, o := range objs(t, "output") {
		if hasCode([]object{obj(o, "type")}, mapping.CodeSystemAIT, mapping.CodeRCPDecision) {
			switch {
			case hasCode([]object{obj(o, "valueCodeableConcept")}, mapping.CodeSystemAIT, mapping.CodeRCPAccepted):
				g.f.set("decision", "indication d'analgésie intrathécale retenue")
			case hasCode([]object{obj(o, "valueCodeableConcept")}, mapping.CodeSystemAIT, mapping.CodeRCPRefused):
				g.f.set("decision", "indication d'analgésie intrathécale non retenue")
			}
		}
	}
	g.technique()
	var who []string
	for _, in := range objs(t, "input") {
		if hasCode([]object{obj(in, "type")}, mapping.CodeSystemAIT, "rcp-participant") {
			if p := g.rd.party(ref(in, "valueReference")); p.Name != "" {
				who = append(who, p.String())
			}
		}
	}
	if len(who) == 0 {
		if p := g.rd.party(ref(t, "owner")); p.Name != "" {
			who = append(who, p.String())
		}
	}
	g.f.set("participants", join(who))
	if !at.IsZero() {
		d, _ := rules.DeadlineByName("algology-7d")
		g.f.set("algologyDeadline", "au plus tard le "+FrenchDay(d.Max.AddTo(at)))
		g.f.set("surgeryWindow", "entre 48 h et 15 jours après cette consultation (au plus tard le "+FrenchDay(d.Max.AddTo(at).AddDate(0, 0, 15))+")")
	}
}

// encounterOf returns the patient's latest Encounter typed with a step code.
func (g *gather) encounterOf(code string) object {
	var last object
	for _, e := range g.rd.search("Encounter", g.ev.Patient) {
		if hasCode(objs(e, "type"), mapping.CodeSystemAIT, code) {
			last = e
		}
	}
	return last
}

// planning: consultations, admission, surgery and the drugs to stop (000 §VII-§VIII).
func (g *gather) planning() {
	if e := g.encounterOf(rules.FactAlgologyConsult); e != nil {
		g.f.set("algologyConsultation", eventDate(e))
	}
	if e := g.encounterOf(rules.FactAnaesthesiaVisit); e != nil {
		g.f.set("anaesthesiaConsultation", eventDate(e))
	}
	if e := g.encounterOf(rules.FactAdmission); e != nil {
		g.f.set("admission", eventDate(e))
	}
	planned := ""
	if g.step != nil {
		if e := ext(g.step, mapping.ExtPlannedDate); e != nil {
			planned = frenchFHIRDate(str(e, "valueDateTime"))
		}
	}
	if planned == "" && g.hasPlan && !g.plan.PlannedImplantation.IsZero() {
		planned = FrenchDate(g.plan.PlannedImplantation)
	}
	g.f.set("surgery", planned)
	if g.f["admission"] == "" && planned != "" {
		g.f.set("admission", "la veille de l'intervention (48 h avant en cas de traitement par méthadone)")
	}
	var stops []string
	review := g.rd.search("MedicationStatement", g.ev.Patient)
	for _, ms := range review {
		if s := str(ms, "status"); s != "active" && s != "intended" && s != "" {
			continue
		}
		cc := obj(ms, "medicationCodeableConcept")
		for _, c := range codings(cc) {
			if str(c, "system") != mapping.SystemATC {
				continue
			}
			for _, rule := range rules.PreoperativeStops {
				if strings.HasPrefix(str(c, "code"), rule.ATCPrefix) {
					stops = append(stops, conceptText(cc)+" : "+rule.Action)
					break
				}
			}
		}
	}
	g.f.set("drugsToStop", list(stops))
	if len(stops) == 0 && len(review) > 0 {
		g.f.set("drugsToStop", "aucun traitement de la revue médicamenteuse à arrêter ou relayer")
	}
}
