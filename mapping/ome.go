package mapping

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// ProfileOME is the guide's oral-morphine-equivalent Observation (000 §IV).
const ProfileOME = Base + "/StructureDefinition/ait-oral-morphine-equivalent"

// OMELine is one converted dosage line of the oral morphine equivalent.
type OMELine struct {
	// Resource names the statement ("MedicationStatement/12" or its position).
	Resource string
	Molecule string
	Route    rules.Route
	// DailyDose is the daily dose in Unit (the conversion row's mass unit).
	DailyDose float64
	Unit      string
	// Shape says how the daily dose was read: "dose × frequency", "rate", "patch",
	// "PCA basal rate", "PCA boluses".
	Shape  string
	Factor float64
	// MgPerDay is DailyDose × Factor: the line's oral morphine equivalent.
	MgPerDay float64
	// Source is the conversion row's seed section or published reference.
	Source string
}

// OMEUnconverted is a statement that is no part of the total, and why.
type OMEUnconverted struct {
	Resource string
	// Name is the medication as the sender named it (display, text or code).
	Name string
	Why  string
}

// OMEResult is the daily oral morphine equivalent of a medication review.
type OMEResult struct {
	// MgPerDay is the sum over the lines that could be converted.
	MgPerDay float64
	// Lines are the converted dosage lines.
	Lines []OMELine
	// Unconverted lists by name each opioid statement (or line) that could not be
	// converted: an unknown molecule, unit or route, methadone.
	Unconverted []OMEUnconverted
	// LowerBound: some statement was not converted, so the real total may be higher.
	LowerBound bool
	// Issues holds one warning per unconverted statement (and the lower-bound note).
	Issues []fhir.Issue
}

// timeUnitDays is a UCUM time unit in days.
var timeUnitDays = map[string]float64{"s": 1.0 / 86400, "min": 1.0 / 1440, "h": 1.0 / 24, "d": 1, "wk": 7, "mo": 30.4375, "a": 365.25}

// perDay reads the daily frequency of a Dosage timing: frequency per period periodUnit.
func perDay(dosage object) (float64, bool) {
	rep := obj(obj(dosage, "timing"), "repeat")
	if rep == nil {
		return 0, false
	}
	freq, ok := num(rep["frequency"])
	if !ok {
		freq = 1
	}
	if fmax, ok := num(rep["frequencyMax"]); ok && fmax > freq {
		freq = fmax // "2 to 4 times a day" counts what may be taken
	}
	period, ok := num(rep["period"])
	if !ok || period <= 0 {
		return 0, false
	}
	days := timeUnitDays[str(rep, "periodUnit")]
	if days == 0 {
		return 0, false
	}
	return freq / (period * days), true
}

// molecule names the opioid of a medication from its ATC or SNOMED CT codes.
func molecule(cc object) string {
	for _, c := range codings(cc) {
		if m, ok := rules.Molecules[c.Code]; ok {
			return m
		}
	}
	return ""
}

// medicationName is how the sender named a medication, for the unconverted list.
func medicationName(cc object, ref object) string {
	if t := str(cc, "text"); t != "" {
		return t
	}
	for _, c := range codings(cc) {
		if c.Display != "" {
			return c.Display
		}
	}
	for _, c := range codings(cc) {
		if c.Code != "" {
			return c.System + "|" + c.Code
		}
	}
	if d := str(ref, "display"); d != "" {
		return d
	}
	if r := str(ref, "reference"); r != "" {
		return r
	}
	return "unnamed medication"
}

// notAnOpioid reports whether the ATC codes say the medication is no opioid.
func notAnOpioid(cc object) bool {
	atc := false
	for _, c := range codings(cc) {
		if c.System != SystemATC {
			continue
		}
		atc = true
		for _, p := range rules.OpioidATCPrefixes {
			if strings.HasPrefix(c.Code, p) {
				return false
			}
		}
	}
	return atc
}

// massUnit splits a UCUM mass rate ("mg/h", "ug/min", "mg/d") into its mass factor to
// mg and its time in days; a plain mass ("mg") has no time.
func massUnit(unit string) (toMg float64, perDays float64, ok bool) {
	mass, per, hasPer := strings.Cut(unit, "/")
	toMg, ok = massFactor[mass]
	if !ok {
		return 0, 0, false
	}
	if !hasPer {
		return toMg, 0, true
	}
	perDays, ok = timeUnitDays[per]
	return toMg, perDays, ok
}

// rateRatio reads a Ratio of mass over time (rateRatio) as a UCUM rate Quantity.
func rateRatio(r object) (Quantity, bool) {
	n, ok1 := quantityOf(obj(r, "numerator"))
	d, ok2 := quantityOf(obj(r, "denominator"))
	if !ok1 || !ok2 || d.Value <= 0 {
		return Quantity{}, false
	}
	if _, ok := timeUnitDays[d.Unit]; !ok {
		return Quantity{}, false
	}
	return Quantity{Value: n.Value / d.Value, Unit: n.Unit + "/" + d.Unit}, true
}

// omeDose is one daily amount read from a Dosage, in mg, with its shape.
type omeDose struct {
	mgPerDay float64
	shape    string
}

// dosageDaily reads the daily amounts of one Dosage: each doseAndRate's rate (rate
// per h, min or d, as rateQuantity or rateRatio; a patch in ug/h) counts continuously;
// each dose counts times the timing's frequency (a PCA's boluses: the bolus dose
// times the boluses per day). It returns why when an amount cannot be read.
func dosageDaily(d object) ([]omeDose, string) {
	var out []omeDose
	drs := objs(d, "doseAndRate")
	if len(drs) == 0 {
		return nil, "no dose or rate"
	}
	hasRate := false
	for _, dr := range drs {
		rate, okR := quantityOf(obj(dr, "rateQuantity"))
		if !okR {
			rate, okR = rateRatio(obj(dr, "rateRatio"))
		}
		if okR {
			toMg, days, ok := massUnit(rate.Unit)
			if !ok || days == 0 {
				return nil, fmt.Sprintf("rate in %q: not a mass per time the gateway converts (mg or ug per min, h or d)", rate.Unit)
			}
			shape := "rate"
			if strings.HasSuffix(rate.Unit, "/h") && strings.HasPrefix(rate.Unit, "ug") {
				shape = "patch or infusion in ug/h"
			}
			out = append(out, omeDose{rate.Value * toMg / days, shape})
			hasRate = true
			continue
		}
		if obj(dr, "rateRange") != nil || obj(dr, "doseRange") != nil {
			return nil, "a dose or rate range: the amount given is not known"
		}
		dose, okD := quantityOf(obj(dr, "doseQuantity"))
		if !okD {
			continue
		}
		toMg, days, ok := massUnit(dose.Unit)
		switch {
		case !ok:
			return nil, fmt.Sprintf("dose in %q: not a mass the gateway converts (mg, ug, g)", dose.Unit)
		case days > 0: // a dose written as a rate (a patch in ug/h as doseQuantity)
			out = append(out, omeDose{dose.Value * toMg / days, "patch or infusion in ug/h"})
			hasRate = true
		default:
			n, okN := perDay(d)
			if !okN {
				return nil, "dose without a frequency (timing.repeat frequency and period)"
			}
			shape := "dose × frequency"
			if hasRate || len(drs) > 1 || boolean(d, "asNeededBoolean") {
				shape = fmt.Sprintf("boluses (%g per day)", round(n, 2))
			}
			out = append(out, omeDose{dose.Value * toMg * n, shape})
		}
	}
	if len(out) == 0 {
		return nil, "no dose or rate"
	}
	if hasRate && len(out) > 1 { // a PCA: basal rate plus boluses
		for i := range out {
			if out[i].shape == "rate" {
				out[i].shape = "basal rate"
			}
		}
	}
	return out, ""
}

func boolean(m object, key string) bool { b, _ := m[key].(bool); return b }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// OME computes the daily oral morphine equivalent of the patient's opioids from
// MedicationStatements and MedicationRequests, whatever the shape of their dosage
// (dose × frequency, a rate per hour or minute in rateQuantity or rateRatio, a patch
// in ug/h, a PCA's basal rate plus its boluses), with the 000 §IX.1.a equivalence and
// the conversion table for other molecules. Only active (or status-less) statements
// count. Every opioid statement it cannot convert (unknown molecule, unit or route;
// methadone) is listed by name with a warning, and the total is then a lower bound.
// A medication whose ATC code is no opioid is no part of the total.
func OME(statements [][]byte) OMEResult {
	var res OMEResult
	skip := func(where, name, why string) {
		res.Unconverted = append(res.Unconverted, OMEUnconverted{Resource: where, Name: name, Why: why})
		res.Issues = append(res.Issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete",
			Expression:  []string{where},
			Diagnostics: fmt.Sprintf("%s: not counted in the oral morphine equivalent: %s (%s)", name, why, seedText("000 §IX.1.a")),
			Details:     seedDetails("000 §IX.1.a")})
	}
	for i, b := range statements {
		m, err := decodeObject(b)
		typ := str(m, "resourceType")
		if err != nil || (typ != "MedicationStatement" && typ != "MedicationRequest") {
			res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "structure", fmt.Sprintf("[%d]", i), "not a MedicationStatement or MedicationRequest"))
			continue
		}
		where := fmt.Sprintf("%s[%d]", typ, i)
		if id := str(m, "id"); id != "" {
			where = typ + "/" + id
		}
		if s := str(m, "status"); s != "active" && s != "" {
			continue
		}
		cc := obj(m, "medicationCodeableConcept")
		if cc == nil {
			if med := medicationOf(m, nil); med != nil {
				cc = obj(med, "code")
			}
		}
		name := medicationName(cc, obj(m, "medicationReference"))
		mol := molecule(cc)
		if mol != "" && str(cc, "text") == "" && strings.Contains(name, "|") {
			name = mol // coded only: the table's name says it
		}
		if mol == "" {
			if !notAnOpioid(cc) {
				skip(where, name, "molecule not in the conversion table")
			}
			continue
		}
		if why, ok := rules.NoLinearConversion[mol]; ok {
			skip(where, name, why)
			continue
		}
		dosages := objs(m, "dosage")
		if typ == "MedicationRequest" {
			dosages = objs(m, "dosageInstruction")
		}
		if len(dosages) == 0 {
			skip(where, name, "no dosage")
		}
		for j, d := range dosages {
			dw := fmt.Sprintf("%s.%s[%d]", where, map[string]string{"MedicationStatement": "dosage", "MedicationRequest": "dosageInstruction"}[typ], j)
			route := rules.Route("")
			for _, c := range codings(obj(d, "route")) {
				if r, ok := rules.RouteOf(c.System, c.Code); ok {
					route = r
				}
			}
			conv, ok := rules.ConversionFor(mol, route)
			if !ok {
				r := string(route)
				if r == "" {
					r = "not coded (SNOMED CT or EDQM)"
				}
				skip(dw, name, fmt.Sprintf("%s by route %s has no row in the conversion table", mol, r))
				continue
			}
			doses, why := dosageDaily(d)
			if why != "" {
				skip(dw, name, why)
				continue
			}
			for _, dd := range doses {
				daily := dd.mgPerDay / massFactor[conv.Unit]
				line := OMELine{Resource: dw, Molecule: mol, Route: route, DailyDose: round(daily, 4), Unit: conv.Unit + "/d",
					Shape: dd.shape, Factor: conv.Factor, MgPerDay: round(daily*conv.Factor, 4), Source: conv.Section}
				res.Lines = append(res.Lines, line)
				res.MgPerDay += daily * conv.Factor
			}
		}
	}
	res.MgPerDay = round(res.MgPerDay, 4)
	if len(res.Unconverted) > 0 {
		res.LowerBound = true
		names := make([]string, len(res.Unconverted))
		for i, u := range res.Unconverted {
			names[i] = u.Name
		}
		res.Issues = append(res.Issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete",
			Expression: []string{"MedicationStatement"},
			Diagnostics: fmt.Sprintf("the oral morphine equivalent %g mg/d is a lower bound: %d statement(s) not converted (%s) (%s)",
				res.MgPerDay, len(res.Unconverted), strings.Join(names, "; "), seedText("000 §IX.1.a")),
			Details: seedDetails("000 §IX.1.a")})
	}
	return res
}

// OMEParameter renders the computation as a Parameters part named "ome" for
// $ait-dossier-status: the total (mg/d), lowerBound, one "line" part per converted
// dosage line (molecule, route, daily dose, factor, OME, source) and one
// "unconverted" part per statement left out (name, why).
func OMEParameter(r OMEResult) map[string]any {
	parts := []any{
		map[string]any{"name": "total", "valueQuantity": map[string]any{"value": formatNumber(r.MgPerDay), "unit": "mg/d", "system": SystemUCUM, "code": "mg/d"}},
		map[string]any{"name": "lowerBound", "valueBoolean": r.LowerBound},
		map[string]any{"name": "threshold", "valueQuantity": map[string]any{"value": formatNumber(rules.OMEThresholdInEffect().Value), "unit": "mg/d", "system": SystemUCUM, "code": "mg/d"}},
	}
	for _, l := range r.Lines {
		parts = append(parts, map[string]any{"name": "line", "part": []any{
			map[string]any{"name": "statement", "valueString": l.Resource},
			map[string]any{"name": "molecule", "valueString": l.Molecule},
			map[string]any{"name": "route", "valueString": string(l.Route)},
			map[string]any{"name": "shape", "valueString": l.Shape},
			map[string]any{"name": "dailyDose", "valueQuantity": map[string]any{"value": formatNumber(l.DailyDose), "unit": l.Unit, "system": SystemUCUM, "code": l.Unit}},
			map[string]any{"name": "factor", "valueDecimal": formatNumber(l.Factor)},
			map[string]any{"name": "ome", "valueQuantity": map[string]any{"value": formatNumber(l.MgPerDay), "unit": "mg/d", "system": SystemUCUM, "code": "mg/d"}},
			map[string]any{"name": "source", "valueString": rules.Cite(l.Source)},
		}})
	}
	for _, u := range r.Unconverted {
		parts = append(parts, map[string]any{"name": "unconverted", "part": []any{
			map[string]any{"name": "statement", "valueString": u.Resource},
			map[string]any{"name": "name", "valueString": u.Name},
			map[string]any{"name": "why", "valueString": u.Why},
		}})
	}
	return map[string]any{"name": "ome", "part": parts}
}

// OMEObservation renders the computation as the guide's oral-morphine-equivalent
// Observation (000 §IV), which the referral can reference in supportingInfo: the total
// in mg/d, one component per converted line, derivedFrom the statements, and a note
// naming the statements left out when the total is a lower bound.
func OMEObservation(r OMEResult, subject string, at time.Time) map[string]any {
	o := map[string]any{
		"resourceType":      "Observation",
		"meta":              map[string]any{"profile": []any{ProfileOME}},
		"status":            "final",
		"code":              map[string]any{"coding": []any{map[string]any{"system": CodeSystemAIT, "code": "oral-morphine-equivalent"}}, "text": "Current daily oral morphine equivalent"},
		"effectiveDateTime": at.UTC().Format(time.RFC3339),
		"valueQuantity":     map[string]any{"value": formatNumber(r.MgPerDay), "unit": "mg/d", "system": SystemUCUM, "code": "mg/d"},
	}
	if subject != "" {
		o["subject"] = map[string]any{"reference": subject}
	}
	var comps, from []any
	for _, l := range r.Lines {
		comps = append(comps, map[string]any{
			"code":          map[string]any{"text": fmt.Sprintf("%s %s %s: %g %s × %g (%s)", l.Molecule, l.Route, l.Shape, l.DailyDose, l.Unit, l.Factor, rules.Cite(l.Source))},
			"valueQuantity": map[string]any{"value": formatNumber(l.MgPerDay), "unit": "mg/d", "system": SystemUCUM, "code": "mg/d"}})
		if strings.Contains(l.Resource, "/") && !strings.Contains(strings.SplitN(l.Resource, ".", 2)[0], "[") {
			from = append(from, map[string]any{"reference": strings.SplitN(l.Resource, ".", 2)[0]})
		}
	}
	if comps != nil {
		o["component"] = comps
	}
	if from != nil {
		o["derivedFrom"] = from
	}
	if r.LowerBound {
		names := make([]string, len(r.Unconverted))
		for i, u := range r.Unconverted {
			names[i] = u.Name + " (" + u.Why + ")"
		}
		o["note"] = []any{map[string]any{"text": "Lower bound: not converted: " + strings.Join(names, "; ")}}
	}
	return o
}

// omeEntry is the transaction entry that stores the referral's OME Observation
// (OMEObservation), conditional on an identifier derived from the referral so that a
// referral posted twice stores it once, and the reference the referral's
// supportingInfo gets. ok is false when the review holds no opioid.
//
// referralKey identifies the referral (its identifier, see careplanIdentifier): the
// Observation's identifier derives from it, so that a retried intake finds its own
// Observation and another patient's referral never does.
func omeEntry(r OMEResult, subject, referralKey string, at time.Time) (entry map[string]any, reference string, ok bool) {
	if len(r.Lines) == 0 && len(r.Unconverted) == 0 {
		return nil, "", false
	}
	o := OMEObservation(r, subject, at)
	id := uuidFrom([]byte("ome|" + referralKey))
	o["identifier"] = []any{map[string]any{"system": IdentifierIntake, "value": id}}
	full := "urn:uuid:" + id
	return map[string]any{"fullUrl": full, "resource": o, "request": map[string]any{"method": "POST", "url": "Observation",
		"ifNoneExist": "identifier=" + url.QueryEscape(IdentifierIntake) + "|" + id}}, full, true
}
