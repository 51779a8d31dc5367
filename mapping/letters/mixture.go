package letters

import (
	"encoding/json"
	"strings"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

func marshal(m object) ([]byte, error) { return json.Marshal(m) }

// mixture renders the molecules of an intrathecal MedicationRequest, one line each
// with the concentration and the daily dose, and the pump flow (000 §IX). A dose or
// concentration the prescription does not give is named.
func mixture(req object, rd *reader) (lines []string, flow string) {
	med := medication(req, rd)
	body, _ := marshal(req)
	var medBody []byte
	if med != nil && !strings.HasPrefix(ref(req, "medicationReference"), "#") {
		medBody, _ = marshal(med)
	}
	doses := mapping.PrescribedDoses(body, medBody)
	for _, ing := range objs(med, "ingredient") {
		cc := obj(ing, "itemCodeableConcept")
		mol := ""
		for _, c := range codings(cc) {
			if m, ok := rules.Molecules[str(c, "code")]; ok {
				mol = m
			}
		}
		name := mol
		if name == "" {
			name = conceptText(cc)
		}
		if name == "" {
			name = "molécule non identifiée"
		}
		conc := "concentration non transmise"
		st := obj(ing, "strength")
		if n, d := quantity(obj(st, "numerator")), obj(st, "denominator"); n != "" {
			dv, _ := num(d, "value")
			du := str(d, "code")
			if du == "" {
				du = str(d, "unit")
			}
			if dv == 1 {
				conc = n + "/" + du
			} else if dv > 0 {
				conc = n + " pour " + decimal(dv) + " " + du
			}
		}
		dose := "dose non transmise"
		if d, ok := doses[mol]; ok {
			lim, _ := rules.LimitFor(mol)
			dose = decimal(round(d.PerDay)) + " " + frenchUnit(lim.DoseUnit)
		}
		lines = append(lines, name+" "+conc+" : "+dose)
	}
	for _, di := range objs(req, "dosageInstruction") {
		for _, dr := range objs(di, "doseAndRate") {
			q := obj(dr, "rateQuantity")
			if u := str(q, "code"); u == "mL/d" || u == "mL/h" {
				flow = quantity(q)
			}
		}
	}
	return lines, flow
}

// round keeps three decimals (doses computed from concentration × flow).
func round(v float64) float64 {
	return float64(int64(v*1000+0.5)) / 1000
}

// medication is the request's Medication: contained, referenced, or nil.
func medication(req object, rd *reader) object {
	r := ref(req, "medicationReference")
	if strings.HasPrefix(r, "#") {
		for _, c := range objs(req, "contained") {
			if "#"+str(c, "id") == r {
				return c
			}
		}
		return nil
	}
	if r != "" {
		return rd.get(r)
	}
	if cc := obj(req, "medicationCodeableConcept"); cc != nil {
		return object{"ingredient": []any{map[string]any{"itemCodeableConcept": cc}}}
	}
	return nil
}
