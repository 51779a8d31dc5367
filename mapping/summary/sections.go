package summary

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aitgw/aitgw/mapping/rules"
)

// sectionOrder lists the sections of the summary, IPS order: the three the IPS
// requires, then what the AIT and IR pathways add.
var sectionOrder = []func(d *doc) map[string]any{
	(*doc).problems, (*doc).allergies, (*doc).medications, (*doc).procedures,
	(*doc).devices, (*doc).results, (*doc).planOfCare,
}

// section builds one Composition.section: a French narrative always, and entries or,
// with none, an emptyReason (withheld when the reader may not see the types).
func (d *doc) section(title, loinc, display string, types []string, items, entries []string) map[string]any {
	s := map[string]any{
		"title": title,
		"code":  map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": loinc, "display": display}}},
	}
	if len(entries) == 0 {
		reason, why := "unavailable", "Aucune information disponible dans le dossier AIT."
		for _, t := range types {
			if d.in.Allowed != nil && !d.in.Allowed(t) {
				reason, why = "withheld", "Information non communiquée : l'accès de ce lecteur ne la couvre pas."
			}
		}
		s["text"] = narrative(why)
		s["emptyReason"] = map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": reason}}}
		return s
	}
	s["text"] = listNarrative(title+" :", items)
	var es []any
	for _, e := range entries {
		es = append(es, map[string]any{"reference": e})
	}
	s["entry"] = es
	return s
}

// take adds the matching resources with the IPS profile claimed and returns their
// references, in the order given by key.
func (d *doc) take(typ, query, profile string, render func(map[string]any) string) (items, entries []string) {
	found := d.search(typ, query)
	sort.SliceStable(found, func(i, j int) bool { return str(found[i], "id") < str(found[j], "id") })
	for _, r := range found {
		id := str(r, "id")
		if d.seen[typ+"/"+id] {
			continue
		}
		if profile != "" {
			r = withProfile(r, profile)
		}
		items = append(items, render(r)) // render may complete the copy (see absent)
		d.add(typ, id, r)
		entries = append(entries, typ+"/"+id)
	}
	return items, entries
}

func (d *doc) problems() map[string]any {
	items, entries := d.take("Condition", "subject=Patient/"+d.in.Patient, ipsBase+"Condition-uv-ips", func(c map[string]any) string {
		s := concept(field(c, "code"))
		if st := str(c, "clinicalStatus", "coding", "code"); st != "" {
			s += " (" + status(st) + ")"
		}
		if o := str(c, "onsetDateTime"); o != "" {
			s += ", depuis le " + frDate(o)
		}
		return s
	})
	return d.section("Problèmes", "11450-4", "Problem list - Reported", []string{"Condition"}, items, entries)
}

func (d *doc) allergies() map[string]any {
	items, entries := d.take("AllergyIntolerance", "patient=Patient/"+d.in.Patient, ipsBase+"AllergyIntolerance-uv-ips", func(a map[string]any) string {
		return concept(field(a, "code"))
	})
	return d.section("Allergies et intolérances", "48765-2", "Allergies and adverse reactions Document", []string{"AllergyIntolerance"}, items, entries)
}

func (d *doc) medications() map[string]any {
	items, entries := d.take("MedicationRequest", "subject=Patient/"+d.in.Patient, ipsBase+"MedicationRequest-uv-ips", func(m map[string]any) string {
		s := d.prescription(m)
		nameMixture(m, s)
		return s
	})
	mi, me := d.take("MedicationStatement", "subject=Patient/"+d.in.Patient, ipsBase+"MedicationStatement-uv-ips", func(m map[string]any) string {
		s := d.medicationName(m) + " (" + status(str(m, "status")) + ")"
		nameMixture(m, s)
		if _, ok := m["effectiveDateTime"]; !ok && m["effectivePeriod"] == nil {
			m["_effectiveDateTime"] = absent("unknown")
		}
		return s
	})
	return d.section("Traitements", "10160-0", "History of Medication use Narrative", []string{"MedicationRequest", "MedicationStatement"},
		append(items, mi...), append(entries, me...))
}

// prescription renders a prescription: for the intrathecal mixture, each molecule
// with its concentration and daily dose (000 §IX).
func (d *doc) prescription(mr map[string]any) string {
	med := d.medication(mr)
	conc := map[string]string{}
	var names []string
	for _, ing := range list(field(med, "ingredient")) {
		n := concept(field(ing, "itemCodeableConcept"))
		conc[strings.ToLower(n)] = ratio(field(ing, "strength"))
		names = append(names, n+" "+ratio(field(ing, "strength")))
	}
	var doses []string
	intrathecal := false
	for _, di := range list(field(mr, "dosageInstruction")) {
		for _, c := range list(field(di, "route", "coding")) {
			// the route table's codes (SNOMED CT 72607000, EDQM 20042000), not a list of its own
			if r, ok := rules.RouteOf(str(c, "system"), str(c, "code")); ok && r == rules.RouteIntrathecal {
				intrathecal = true
			}
		}
		molecule := ""
		for _, e := range list(field(di, "extension")) {
			if strings.HasSuffix(str(e, "url"), "/ait-molecule") {
				molecule = concept(field(e, "valueCodeableConcept"))
			}
		}
		rate := quantity(field(di, "doseAndRate", "rateQuantity"))
		if rate == "" {
			rate = quantity(field(di, "doseAndRate", "doseQuantity"))
		}
		switch {
		case molecule != "" && rate != "":
			s := molecule + " " + rate
			if c := conc[strings.ToLower(molecule)]; c != "" {
				s += " (" + c + ")"
			}
			doses = append(doses, s)
		case str(di, "text") != "":
			doses = append(doses, str(di, "text"))
		}
	}
	s := d.medicationName(mr)
	if intrathecal {
		s = "Mélange intrathécal"
		if len(names) > 0 {
			s += " : " + strings.Join(names, " + ")
		}
	}
	if len(doses) > 0 {
		s += " ; doses journalières : " + strings.Join(doses, ", ")
	}
	if a := str(mr, "authoredOn"); a != "" {
		s += " ; prescrit le " + frDate(a)
	}
	return s + " (" + status(str(mr, "status")) + ")"
}

// medication returns the Medication a request or statement names (contained or
// stored), nil when it names a code.
func (d *doc) medication(m map[string]any) map[string]any {
	ref := str(m, "medicationReference", "reference")
	if strings.HasPrefix(ref, "#") {
		for _, c := range list(field(m, "contained")) {
			if str(c, "id") == ref[1:] {
				cm, _ := c.(map[string]any)
				return cm
			}
		}
	}
	if typ, id := split(ref); typ == "Medication" {
		if b, err := d.rec.Read(typ, id); err == nil && b != nil {
			if !d.seen[typ+"/"+id] {
				d.add(typ, id, withProfile(decode(b), ipsBase+"Medication-uv-ips"))
			}
			return decode(b)
		}
	}
	return nil
}

func (d *doc) medicationName(m map[string]any) string {
	if cc := field(m, "medicationCodeableConcept"); cc != nil {
		return concept(cc)
	}
	if med := d.medication(m); med != nil {
		if field(med, "code") != nil {
			return concept(field(med, "code"))
		}
		var names []string
		for _, ing := range list(field(med, "ingredient")) {
			names = append(names, concept(field(ing, "itemCodeableConcept")))
		}
		return strings.Join(names, " + ")
	}
	return "médicament"
}

func (d *doc) procedures() map[string]any {
	items, entries := d.take("Procedure", "subject=Patient/"+d.in.Patient, ipsBase+"Procedure-uv-ips", func(p map[string]any) string {
		s := concept(field(p, "code"))
		if t := str(p, "performedDateTime"); t != "" {
			s += " le " + frDate(t)
		} else if pp := period(field(p, "performedPeriod")); pp != "" {
			s += " " + pp
		}
		return s + " (" + status(str(p, "status")) + ")"
	})
	return d.section("Actes et interventions", "47519-4", "History of Procedures Document", []string{"Procedure"}, items, entries)
}

// devices lists the implanted devices, each through a DeviceUseStatement (the IPS
// way), with the reservoir volume, the catheter tip level and the next refill date
// (000 §XI, §XIII).
func (d *doc) devices() map[string]any {
	var items, entries []string
	nextRefill := d.nextRefill()
	for _, dev := range d.search("Device", "patient=Patient/"+d.in.Patient) {
		id := str(dev, "id")
		d.add("Device", id, withProfile(dev, ipsBase+"Device-uv-ips"))
		s := concept(field(dev, "type"))
		if n := str(dev, "deviceName", "name"); n != "" {
			s += " " + n
		}
		for _, p := range list(field(dev, "property")) {
			switch str(p, "type", "coding", "code") {
			case "reservoir-volume":
				s += ", réservoir " + quantity(field(p, "valueQuantity"))
			case "catheter-tip-level":
				s += ", extrémité du cathéter en " + str(p, "valueCode", "coding", "code")
			}
		}
		for _, e := range list(field(dev, "extension")) {
			if strings.HasSuffix(str(e, "url"), "/ait-implant-date") {
				s += ", implantée le " + frDate(str(e, "valueDateTime"))
			}
		}
		if nextRefill != "" {
			s += ", prochain remplissage le " + frDate(nextRefill)
		}
		use := map[string]any{
			"resourceType": "DeviceUseStatement",
			"meta":         map[string]any{"profile": []any{ipsBase + "DeviceUseStatement-uv-ips"}},
			"status":       "active",
			"subject":      map[string]any{"reference": "Patient/" + d.in.Patient},
			"device":       map[string]any{"reference": "Device/" + id},
			"text":         narrative(s),
		}
		for _, e := range list(field(dev, "extension")) {
			if strings.HasSuffix(str(e, "url"), "/ait-implant-date") {
				use["timingPeriod"] = map[string]any{"start": str(e, "valueDateTime")}
			}
		}
		u := d.uuid("DeviceUseStatement", d.in.Patient, id)
		d.entries = append(d.entries, entry(u, use))
		items = append(items, s)
		entries = append(entries, u)
	}
	return d.section("Dispositifs médicaux", "46264-8", "History of medical device use", []string{"Device"}, items, entries)
}

// nextRefill is the latest next-refill date the pathway recorded, on the discharge
// Encounter or a refill Procedure (000 §XI, §XIII): the one recorded last.
func (d *doc) nextRefill() string {
	latest, at := "", ""
	for _, typ := range []string{"Procedure", "Encounter"} {
		for _, r := range d.search(typ, "subject=Patient/"+d.in.Patient) {
			for _, e := range list(field(r, "extension")) {
				if !strings.HasSuffix(str(e, "url"), "/ait-next-refill-date") {
					continue
				}
				when := str(r, "performedDateTime") + str(r, "performedPeriod", "start") + str(r, "period", "start")
				if when >= at {
					latest, at = str(e, "valueDateTime")+str(e, "valueDate"), when
				}
			}
		}
	}
	return latest
}

func (d *doc) results() map[string]any {
	items, entries := d.take("Observation", "subject=Patient/"+d.in.Patient+"&category=laboratory",
		ipsBase+"Observation-results-laboratory-pathology-uv-ips", func(o map[string]any) string {
			s := concept(field(o, "code"))
			if v := quantity(field(o, "valueQuantity")); v != "" {
				s += " : " + v
			}
			if t := str(o, "effectiveDateTime"); t != "" {
				s += " le " + frDate(t)
			}
			if o["performer"] == nil {
				o["performer"] = []any{absent("unknown")}
			}
			return s
		})
	return d.section("Résultats d'examens", "30954-2", "Relevant diagnostic tests/laboratory data Narrative", []string{"Observation"}, items, entries)
}

// planOfCare shows the pathway CarePlans with their next steps and dates.
func (d *doc) planOfCare() map[string]any {
	items, entries := d.take("CarePlan", "subject=Patient/"+d.in.Patient, "", func(cp map[string]any) string {
		s := concept(field(cp, "category"))
		var next []string
		for _, a := range list(field(cp, "activity")) {
			st := str(a, "detail", "status")
			if st == "completed" || st == "cancelled" || st == "entered-in-error" {
				continue
			}
			step := concept(field(a, "detail", "code")) + " : " + status(st)
			if p := period(field(a, "detail", "scheduledPeriod")); p != "" {
				step += " " + p
			}
			next = append(next, step)
		}
		if len(next) > 0 {
			s += " — prochaines étapes : " + strings.Join(next, " ; ")
		}
		if r := d.nextRefill(); r != "" && strings.Contains(string(marshal(cp["category"])), "ait-pathway") {
			s += " — prochain remplissage de la pompe le " + frDate(r)
		}
		return s + fmt.Sprintf(" (%s)", status(str(cp, "status")))
	})
	return d.section("Plan de soins", "18776-5", "Plan of care note", []string{"CarePlan"}, items, entries)
}

// absent is the data-absent-reason extension IPS uses for a required element the
// record does not hold (the summary's copy says so rather than invent it).
func absent(reason string) map[string]any {
	return map[string]any{"extension": []any{map[string]any{
		"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": reason}}}
}

// nameMixture gives a contained Medication without a code (the compounded intrathecal
// mixture) the text of what it is, as IPS requires a Medication.code: the
// ingredients and concentrations, nothing the record does not say.
func nameMixture(m map[string]any, text string) {
	for _, c := range list(m["contained"]) {
		cm, _ := c.(map[string]any)
		if cm["resourceType"] == "Medication" && cm["code"] == nil {
			var names []string
			for _, ing := range list(cm["ingredient"]) {
				names = append(names, concept(field(ing, "itemCodeableConcept"))+" "+ratio(field(ing, "strength")))
			}
			cm["code"] = map[string]any{"text": "Mélange : " + strings.Join(names, " + ")}
		}
	}
}
