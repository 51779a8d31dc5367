package mapping

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// DoseChange is a molecule's previous daily dose and when it was set.
type DoseChange struct {
	PerDay float64 // in the molecule's DoseUnit (rules.IntrathecalLimits)
	At     time.Time
}

// PrescriptionContext is what the checks need beyond the MedicationRequest.
type PrescriptionContext struct {
	// Psychosis: the patient has a psychosis (ziconotide contraindication, 000 §IX.1.c).
	Psychosis bool
	// Previous daily doses by molecule, for the ziconotide steps; none: a start.
	Previous map[string]DoseChange
	// SystemicOME is the previous systemic opioids' daily oral morphine equivalent
	// (mg/day); when set and morphine starts, the proposed dose is checked (000 §IX.1.a).
	SystemicOME float64
}

// massFactor converts a mass unit to mg.
var massFactor = map[string]float64{"mg": 1, "ug": 0.001, "g": 1000}

// CheckPrescription checks an intrathecal MedicationRequest and its Medication (or a
// contained one when medication is nil) against 000 §IX: hard limits are errors,
// off-label or unusual values warnings. The daily dose of each molecule is the
// rateQuantity of its dosage line (the guide's ExtMolecule names the molecule, in a
// daily-dose unit) or else its concentration times the pump flow (rateQuantity in mL/d).
func CheckPrescription(request, medication []byte, ctx PrescriptionContext) ([]fhir.Issue, error) {
	req, err := decodeObject(request)
	if err != nil || str(req, "resourceType") != "MedicationRequest" {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "MedicationRequest", "not a MedicationRequest")
	}
	med := medicationOf(req, medication)
	if med == nil {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "required", "MedicationRequest.medication",
			"the intrathecal mixture's Medication (ingredients and strengths) is needed (000 §IX.1)")
	}
	at, _ := parseDate(str(req, "authoredOn"))
	flow, hasFlow := pumpFlow(req)
	var issues []fhir.Issue
	add := func(sev, expr, section, format string, args ...any) {
		issues = append(issues, fhir.Issue{Severity: sev, Code: "business-rule", Expression: []string{expr},
			Diagnostics: fmt.Sprintf(format, args...) + " (" + section + ")", Details: seedDetails(section)})
	}
	ings := objs(med, "ingredient")
	if max := rules.MaxMoleculesInEffect(); float64(len(ings)) > max.Value {
		add(fhir.SeverityError, "Medication.ingredient", max.Section, "%d molecules: at most %g in the intrathecal mixture", len(ings), max.Value)
	}
	if !hasFlow && !hasDoseLines(req) {
		add(fhir.SeverityWarning, "MedicationRequest.dosageInstruction.doseAndRate.rateQuantity", "000 §IX.1",
			"neither a pump flow in mL/d nor a daily dose per molecule: daily doses cannot be checked")
	}
	for i, ing := range ings {
		expr := fmt.Sprintf("Medication.ingredient[%d]", i)
		mol := molecule(obj(ing, "itemCodeableConcept"))
		lim, known := rules.LimitFor(mol)
		if !known {
			add(fhir.SeverityWarning, expr+".item", "000 §IX.1, 001", "molecule not among the referential's intrathecal drugs: unusual")
			continue
		}
		if lim.OffLabel {
			add(fhir.SeverityWarning, expr+".item", lim.Section, "%s intrathecal is off-label", mol)
		}
		if mol == "ziconotide" && ctx.Psychosis {
			add(fhir.SeverityError, expr+".item", lim.Section, "ziconotide is contraindicated with psychosis")
		}
		conc, ok := strengthPerML(obj(ing, "strength"))
		if !ok {
			add(fhir.SeverityError, expr+".strength", lim.Section, "%s: strength per mL missing or not in mg or ug per mL", mol)
			continue
		}
		if lim.Concentration > 0 {
			want := lim.Concentration * massFactor[strings.Split(lim.ConcUnit, "/")[0]]
			if !near(conc.Value, want) {
				add(fhir.SeverityWarning, expr+".strength", lim.Section, "%s at %g mg/mL: the referential prepares it at %g %s",
					mol, conc.Value, lim.Concentration, lim.ConcUnit)
			}
		}
		perDay, ok := dailyDose(req, mol, lim, conc, flow, hasFlow)
		if !ok {
			continue
		}
		issues = append(issues, doseIssues(mol, lim, perDay, at, expr, ctx)...)
	}
	return issues, nil
}

// doseIssues applies a molecule's dose rules to its daily dose.
func doseIssues(mol string, lim rules.IntrathecalLimit, perDay float64, at time.Time, expr string, ctx PrescriptionContext) []fhir.Issue {
	var out []fhir.Issue
	add := func(sev, section, format string, args ...any) {
		out = append(out, fhir.Issue{Severity: sev, Code: "business-rule", Expression: []string{"MedicationRequest.dosageInstruction.doseAndRate.rateQuantity", expr},
			Diagnostics: fmt.Sprintf(format, args...) + " (" + section + ")", Details: seedDetails(section)})
	}
	switch {
	case lim.DoseMax > 0 && perDay > lim.DoseMax+1e-9 && lim.DoseMaxIsHard:
		add(fhir.SeverityError, lim.Section, "%s %.4g %s exceeds the maximum %g %s", mol, perDay, lim.DoseUnit, lim.DoseMax, lim.DoseUnit)
	case lim.DoseMax > 0 && perDay > lim.DoseMax+1e-9, lim.DoseMin > 0 && perDay < lim.DoseMin-1e-9:
		add(fhir.SeverityWarning, lim.Section, "%s %.4g %s outside %g-%g %s", mol, perDay, lim.DoseUnit, lim.DoseMin, lim.DoseMax, lim.DoseUnit)
	}
	if mol == "ziconotide" {
		if typ := rules.ZiconotideTypicalMax; perDay > typ.Value+1e-9 && perDay <= lim.DoseMax+1e-9 {
			add(fhir.SeverityWarning, typ.Section, "ziconotide %.4g ug/d: 75 %% of satisfied patients receive at most %g ug/d", perDay, typ.Value)
		}
		prev, titrating := ctx.Previous[mol]
		switch {
		case !titrating && perDay > lim.Start+1e-9:
			add(fhir.SeverityError, lim.Section, "ziconotide starts at %g ug/d, not %.4g", lim.Start, perDay)
		case !titrating && perDay < lim.Start-1e-9:
			add(fhir.SeverityWarning, lim.Section, "ziconotide start %.4g ug/d below %g ug/d (the 2019 recommendation starts at 0.25-0.5 ug/d)", perDay, lim.Start)
		case titrating && perDay-prev.PerDay >= lim.StepMax-1e-9:
			add(fhir.SeverityError, lim.Section, "ziconotide step of %.4g ug/d: steps must be below %g ug/d", perDay-prev.PerDay, lim.StepMax)
		case titrating && perDay > prev.PerDay && !at.IsZero() && at.Before(lim.StepMinDelay.AddTo(prev.At)):
			add(fhir.SeverityError, lim.Section, "ziconotide step %s after the previous one: steps are at least %s apart",
				at.Sub(prev.At), lim.StepMinDelay)
		}
	}
	if mol == "morphine" && ctx.SystemicOME > 0 {
		if _, titrating := ctx.Previous[mol]; !titrating {
			proposed := rules.IntrathecalMorphineFromOME(ctx.SystemicOME)
			if perDay > proposed+1e-9 {
				add(fhir.SeverityWarning, "000 §IX.1.a", "intrathecal morphine start %.4g mg/d above %.4g mg/d proposed from %g mg/d oral morphine equivalent (oral 300 = intrathecal 1)",
					perDay, proposed, ctx.SystemicOME)
			}
		}
	}
	return out
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

// pumpFlow reads the pump flow in mL/d, from rateQuantity or rateRatio in mL per
// day, hour or minute.
func pumpFlow(req object) (float64, bool) {
	for _, di := range objs(req, "dosageInstruction") {
		for _, dr := range objs(di, "doseAndRate") {
			q, ok := quantityOf(obj(dr, "rateQuantity"))
			if !ok {
				q, ok = rateRatio(obj(dr, "rateRatio"))
			}
			vol, per, _ := strings.Cut(q.Unit, "/")
			if days := timeUnitDays[per]; ok && vol == "mL" && days > 0 {
				return q.Value / days, true
			}
		}
	}
	return 0, false
}

// strengthPerML reads an ingredient strength Ratio as mg per mL.
func strengthPerML(r object) (Quantity, bool) {
	n, ok1 := quantityOf(obj(r, "numerator"))
	d, ok2 := quantityOf(obj(r, "denominator"))
	f, ok3 := massFactor[n.Unit]
	if !ok1 || !ok2 || !ok3 || d.Unit != "mL" || d.Value <= 0 {
		return Quantity{}, false
	}
	return Quantity{Value: n.Value * f / d.Value, Unit: "mg/mL"}, true
}

// ProposedIntrathecalMorphine is the intrathecal morphine starting dose (mg/day)
// proposed from the previous systemic opioids' daily oral morphine equivalent
// (000 §IX.1.a: oral 300 = intrathecal 1).
func ProposedIntrathecalMorphine(systemicOME float64) float64 {
	return rules.IntrathecalMorphineFromOME(systemicOME)
}

// dailyUnitMass is the mass unit of a daily-dose UCUM unit ("mg/d" → "mg").
func dailyUnitMass(unit string) (string, bool) {
	m, ok := strings.CutSuffix(unit, "/d")
	_, known := massFactor[m]
	return m, ok && known
}

// doseLine returns the daily dose (in mg) of molecule mol from the dosage line the
// guide's ExtMolecule assigns to it.
func doseLine(req object, mol string) (float64, bool) {
	for _, di := range objs(req, "dosageInstruction") {
		named := false
		for _, e := range objs(di, "extension") {
			if str(e, "url") == ExtMolecule && molecule(obj(e, "valueCodeableConcept")) == mol {
				named = true
			}
		}
		if !named {
			continue
		}
		for _, dr := range objs(di, "doseAndRate") {
			if q, ok := quantityOf(obj(dr, "rateQuantity")); ok {
				if m, ok := dailyUnitMass(q.Unit); ok {
					return q.Value * massFactor[m], true
				}
			}
		}
	}
	return 0, false
}

// hasDoseLines reports whether some dosage line names its molecule (ExtMolecule).
func hasDoseLines(req object) bool {
	for _, di := range objs(req, "dosageInstruction") {
		for _, e := range objs(di, "extension") {
			if str(e, "url") == ExtMolecule {
				return true
			}
		}
	}
	return false
}

// dailyDose is a molecule's daily dose in its limit's unit (rules.IntrathecalLimits):
// its own dosage line, else concentration (mg/mL) × pump flow (mL/d).
func dailyDose(req object, mol string, lim rules.IntrathecalLimit, conc Quantity, flow float64, hasFlow bool) (float64, bool) {
	unit := massFactor[strings.TrimSuffix(lim.DoseUnit, "/d")]
	if mg, ok := doseLine(req, mol); ok {
		return mg / unit, true
	}
	if !hasFlow {
		return 0, false
	}
	return conc.Value * flow / unit, true
}

// PrescribedDoses reads the daily dose of each molecule of an intrathecal
// MedicationRequest (in the molecule's DoseUnit, rules.IntrathecalLimits) and its
// date: the previous prescription of the ziconotide step rule (000 §IX.1.c).
// medication may be nil for a contained Medication.
func PrescribedDoses(request, medication []byte) map[string]DoseChange {
	req, err := decodeObject(request)
	if err != nil {
		return nil
	}
	med := medicationOf(req, medication)
	at, _ := parseDate(str(req, "authoredOn"))
	flow, hasFlow := pumpFlow(req)
	out := map[string]DoseChange{}
	for _, ing := range objs(med, "ingredient") {
		mol := molecule(obj(ing, "itemCodeableConcept"))
		lim, known := rules.LimitFor(mol)
		if !known {
			continue
		}
		conc, _ := strengthPerML(obj(ing, "strength"))
		if perDay, ok := dailyDose(req, mol, lim, conc, flow, hasFlow); ok {
			out[mol] = DoseChange{PerDay: perDay, At: at}
		}
	}
	return out
}

// medicationOf is the Medication given, or the request's contained one.
func medicationOf(req object, medication []byte) object {
	if medication != nil {
		m, _ := decodeObject(medication)
		return m
	}
	if ref := str(obj(req, "medicationReference"), "reference"); strings.HasPrefix(ref, "#") {
		for _, c := range objs(req, "contained") {
			if "#"+str(c, "id") == ref {
				return c
			}
		}
	}
	return nil
}

// IsIntrathecalPrescription reports whether a MedicationRequest claims the guide's
// intrathecal prescription profile or has an intrathecal route (000 §IX).
func IsIntrathecalPrescription(request []byte) bool {
	req, err := decodeObject(request)
	if err != nil || str(req, "resourceType") != "MedicationRequest" {
		return false
	}
	for _, p := range arr(obj(req, "meta"), "profile") {
		if p == ProfilePrescription {
			return true
		}
	}
	for _, di := range objs(req, "dosageInstruction") {
		for _, c := range codings(obj(di, "route")) {
			if r, _ := rules.RouteOf(c.System, c.Code); r == rules.RouteIntrathecal {
				return true
			}
		}
	}
	return false
}
