package mapping

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Evidence is one submitted resource that stands for a dossier element.
type Evidence struct {
	// Element is the dossier element key; for labs, the lab key (rules.Labs).
	Element string
	Type    string
	ID      string // logical id, or the fullUrl inside a Bundle
	Date    time.Time
	Dated   bool
	// Value is the value in the canonical unit (labs only); Submitted as sent.
	Value, Submitted *Quantity
	// Abnormal holds an interpretation code that marks the value abnormal (H, L, A…).
	Abnormal string
	// RefLow and RefHigh are the Observation's own reference range, canonical unit.
	RefLow, RefHigh *float64
	// UnitError says why the value could not be normalised.
	UnitError string
}

// Dossier is what the referral holds, element by element (000 §V.2).
type Dossier struct {
	// ReferralDate is the ServiceRequest's authoredOn: the freshness of labs and
	// imaging is counted from it (000 §V.2).
	ReferralDate time.Time
	Evidence     []Evidence
}

// abnormalFlags are the interpretation codes that say a value is out of range.
var abnormalFlags = map[string]bool{"H": true, "L": true, "A": true, "HH": true, "LL": true, "AA": true, "HU": true, "LU": true}

// evidenceOf builds the evidence of a recognised resource.
func evidenceOf(m object, rec recognition, id string) Evidence {
	ev := Evidence{Element: rec.Element, Type: str(m, "resourceType"), ID: id}
	ev.Date, _, ev.Dated = clinicalDate(m)
	if b, err := json.Marshal(m); err == nil && (ev.Type == "ImagingStudy" || ev.Type == "DiagnosticReport") {
		if im, ok := ReadImaging(b); ok { // imaging is dated as the prerequisites read it
			ev.Date, ev.Dated = im.Date, im.Dated
		}
	}
	for _, cc := range objs(m, "interpretation") {
		for _, c := range codings(cc) {
			if abnormalFlags[c.Code] {
				ev.Abnormal = c.Code
			}
		}
	}
	if rec.Lab == nil {
		return ev
	}
	q, ok := quantityOf(obj(m, "valueQuantity"))
	if !ok {
		return ev
	}
	ev.Submitted = &q
	n, err := Normalise(*rec.Lab, q)
	if err != nil {
		ev.UnitError = err.Error()
		return ev
	}
	ev.Value = &n
	for _, rr := range objs(m, "referenceRange") {
		if lo, ok := quantityOf(obj(rr, "low")); ok {
			if n, err := Normalise(*rec.Lab, lo); err == nil {
				ev.RefLow = &n.Value
			}
		}
		if hi, ok := quantityOf(obj(rr, "high")); ok {
			if n, err := Normalise(*rec.Lab, hi); err == nil {
				ev.RefHigh = &n.Value
			}
		}
	}
	return ev
}

// DossierFromResources builds the dossier of a referral from its resources (JSON).
// The first ServiceRequest gives the referral date. Resources that are no dossier
// element are ignored here (Intake reports them).
func DossierFromResources(resources [][]byte) (Dossier, error) {
	var d Dossier
	for i, b := range resources {
		m, err := decodeObject(b)
		if err != nil {
			return Dossier{}, fhir.Errorf(400, "structure", "", "resource %d is not a JSON object: %v", i, err)
		}
		if str(m, "resourceType") == "ServiceRequest" && d.ReferralDate.IsZero() {
			d.ReferralDate, _ = parseDate(str(m, "authoredOn"))
		}
		rec, ok := recognise(m)
		if !ok || rec.Element == "" {
			continue
		}
		d.Evidence = append(d.Evidence, evidenceOf(m, rec, str(m, "id")))
	}
	return d, nil
}

// DossierFromBundle builds the dossier from a referral transaction Bundle.
func DossierFromBundle(bundle []byte) (Dossier, error) {
	b, err := decodeObject(bundle)
	if err != nil || str(b, "resourceType") != "Bundle" {
		return Dossier{}, fhir.Errorf(400, "structure", "Bundle", "not a Bundle")
	}
	var res [][]byte
	for _, e := range objs(b, "entry") {
		if r := obj(e, "resource"); r != nil {
			raw, _ := json.Marshal(r)
			res = append(res, raw)
		}
	}
	return DossierFromResources(res)
}

// find returns the evidence for any of the keys, newest first.
func (d Dossier) find(keys ...string) []Evidence {
	var out []Evidence
	for _, e := range d.Evidence {
		for _, k := range keys {
			if e.Element == k {
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.After(out[j].Date) })
	return out
}

// seedDetails codes the seed section of a rule in an issue.
func seedDetails(section string, extra ...fhir.Coding) *fhir.CodeableText {
	return &fhir.CodeableText{
		Coding: append([]fhir.Coding{{System: CodeSystemSeed, Code: section}}, extra...),
		Text:   section,
	}
}

// elementCoding names a dossier element by LOINC code for labs, AIT code otherwise.
func elementCoding(key string) fhir.Coding {
	if lab, ok := rules.LabByKey(key); ok {
		return fhir.Coding{System: SystemLOINC, Code: lab.LOINC[0], Display: lab.Display}
	}
	return fhir.Coding{System: CodeSystemAIT, Code: key}
}

// CheckDossier lists what the dossier lacks (000 §V.2): one issue per missing
// element, stale lab (1 month) or imaging (6 weeks) counted from the referral date
// (asOf when the referral has none), and value out of range.
func CheckDossier(d Dossier, asOf time.Time) []fhir.Issue {
	ref := d.ReferralDate
	if ref.IsZero() {
		ref = asOf
	}
	var issues []fhir.Issue
	for _, el := range rules.DossierElements {
		keys := el.AnyOf
		if keys == nil {
			keys = []string{el.Key}
		}
		found := d.find(keys...)
		code := elementCoding(keys[0])
		if len(found) == 0 {
			issues = append(issues, fhir.Issue{Severity: fhir.SeverityError, Code: "required",
				Diagnostics: fmt.Sprintf("missing: %s (%s %s), required by %s", el.Display, code.System, code.Code, el.Section),
				Expression:  []string{"ServiceRequest.supportingInfo"},
				Details:     seedDetails(el.Section, code)})
			continue
		}
		ev := found[0]
		switch el.Kind {
		case rules.KindLab:
			issues = append(issues, staleness(el, ev, ref, rules.LabFreshnessInEffect(), code)...)
			issues = append(issues, labRange(el, ev, code)...)
		case rules.KindImaging:
			issues = append(issues, staleness(el, ev, ref, rules.ImagingFreshnessInEffect(), code)...)
		}
	}
	return issues
}

// staleness reports evidence older than the window, counted back from the referral
// date in calendar days of the site's zone (rules.Window.Fresh): "less than 1 month
// old" means dated on a day after the referral's day − 1 month, whatever the hours.
func staleness(el rules.DossierElement, ev Evidence, ref time.Time, w rules.Window, code fhir.Coding) []fhir.Issue {
	if ev.Dated && w.Fresh(ev.Date, ref) {
		return nil
	}
	why := "has no date"
	if ev.Dated {
		why = fmt.Sprintf("dated %s is not %s at the referral date %s", ev.Date.Format("2006-01-02"), w.Name, ref.Format("2006-01-02"))
	}
	return []fhir.Issue{{Severity: fhir.SeverityError, Code: "business-rule",
		Diagnostics: fmt.Sprintf("stale: %s (%s %s) %s (%s)", el.Display, code.System, code.Code, why, w.Section),
		Expression:  []string{ev.Type + ".effective"},
		Details:     seedDetails(w.Section, code)}}
}

// labRange reports a lab value outside the referential's bounds, or flagged abnormal
// by the laboratory for the coagulation ("normal coagulation", 000 §V.2.c).
func labRange(el rules.DossierElement, ev Evidence, code fhir.Coding) []fhir.Issue {
	lab, _ := rules.LabByKey(ev.Element)
	issue := func(why string) []fhir.Issue {
		return []fhir.Issue{{Severity: fhir.SeverityError, Code: "value",
			Diagnostics: fmt.Sprintf("out of range: %s (%s %s) %s (%s)", lab.Display, code.System, code.Code, why, lab.Section),
			Expression:  []string{"Observation.value"},
			Details:     seedDetails(lab.Section, code)}}
	}
	if ev.UnitError != "" {
		return issue(ev.UnitError)
	}
	if ev.Value == nil {
		return issue("has no numeric value")
	}
	v := ev.Value.Value
	low, high := lab.Low, lab.High
	if lab.UsualRange {
		// The laboratory's own range and flags say what "normal" is for its method.
		if ev.RefLow != nil || ev.RefHigh != nil {
			low, high = ev.RefLow, ev.RefHigh
		}
		if ev.Abnormal != "" {
			return issue(fmt.Sprintf("flagged abnormal (%s) by the laboratory", ev.Abnormal))
		}
		if low != nil && v < *low {
			return issue(fmt.Sprintf("%g %s is below %g", v, lab.Unit, *low))
		}
		if high != nil && v > *high {
			return issue(fmt.Sprintf("%g %s is above %g", v, lab.Unit, *high))
		}
		return nil
	}
	if low != nil && v <= *low {
		return issue(fmt.Sprintf("%g %s must be > %g %s", v, lab.Unit, *low, lab.Unit))
	}
	if high != nil && v >= *high {
		return issue(fmt.Sprintf("%g %s must be < %g %s", v, lab.Unit, *high, lab.Unit))
	}
	return nil
}

// DossierStatus renders the $ait-dossier-status answer (000 §V): a Parameters with
// complete (valueBoolean) and outcome (an OperationOutcome listing what is missing,
// stale or out of range).
func DossierStatus(d Dossier, asOf time.Time) []byte { return DossierStatusWith(d, asOf, nil) }

// DossierStatusWith is DossierStatus with the gaps the referral profile found
// besides the checklist (its other rules: requester, freshness…): one definition of
// complete for the status, the profile and the intake (000 §V.2).
func DossierStatusWith(d Dossier, asOf time.Time, profileGaps []fhir.Issue) []byte {
	issues := append(CheckDossier(d, asOf), profileGaps...)
	complete := len(issues) == 0
	if complete {
		issues = []fhir.Issue{{Severity: fhir.SeverityInformation, Code: "informational",
			Diagnostics: "the AIT dossier is complete (000 §V.2)", Details: seedDetails("000 §V.2")}}
	}
	p := map[string]any{
		"resourceType": "Parameters",
		"parameter": []any{
			map[string]any{"name": "complete", "valueBoolean": complete},
			map[string]any{"name": "outcome", "resource": fhir.NewOutcome(issues...)},
		},
	}
	b, _ := json.Marshal(p) // plain maps and strings: cannot fail
	return b
}
