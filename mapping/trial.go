package mapping

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// painCodes are the codes of a pain score Observation (000 §V.2.b; 002).
var painCodes = []string{SystemLOINC + "|72514-3", SystemLOINC + "|38208-5", CodeSystemAIT + "|pain-assessment"}

// painScore reads a pain score Observation: its value (0-10) and date.
func painScore(m object) (float64, time.Time, bool) {
	if str(m, "resourceType") != "Observation" || !hasCoding(obj(m, "code"), painCodes) {
		return 0, time.Time{}, false
	}
	if s := str(m, "status"); s == "entered-in-error" || s == "cancelled" {
		return 0, time.Time{}, false
	}
	v, ok := num(m["valueInteger"])
	if !ok {
		q, okQ := quantityOf(obj(m, "valueQuantity"))
		v, ok = q.Value, okQ
	}
	at, _, dated := clinicalDate(m)
	return v, at, ok && dated
}

// takenAt reports whether a medication statement or request was being taken at t:
// its effective period (or date, or authoredOn) started by t and had not ended.
func takenAt(m object, t time.Time) bool {
	if s := str(m, "status"); s == "entered-in-error" || s == "not-taken" || s == "cancelled" || s == "draft" {
		return false
	}
	start, end := time.Time{}, time.Time{}
	if p := obj(m, "effectivePeriod"); p != nil {
		start, _ = parseDate(str(p, "start"))
		end, _ = parseDate(str(p, "end"))
	} else if s, ok := parseDate(str(m, "effectiveDateTime")); ok {
		start = s
	} else if s, ok := parseDate(str(m, "authoredOn")); ok {
		start = s
	}
	if start.IsZero() || start.After(t) {
		return false
	}
	return end.IsZero() || !end.Before(t)
}

// omeAt is the OME of the medications taken at t (whatever their status today).
func omeAt(meds [][]byte, t time.Time) OMEResult {
	var at [][]byte
	for _, b := range meds {
		m, err := decodeObject(b)
		if err != nil || !takenAt(m, t) {
			continue
		}
		m["status"] = "active" // it was, at t
		raw, _ := json.Marshal(m)
		at = append(at, raw)
	}
	return OME(at)
}

// TrialPainScores picks the pain scores a trial is judged on (002): the latest on or
// before its start, and the latest after it up to at; a zero time is a score not
// found.
func TrialPainScores(start, at time.Time, observations [][]byte) (before float64, bAt time.Time, during float64, dAt time.Time) {
	for _, b := range observations {
		m, err := decodeObject(b)
		if err != nil {
			continue
		}
		v, t, ok := painScore(m)
		switch {
		case !ok || t.After(at):
		case !t.After(start) && (bAt.IsZero() || t.After(bAt)):
			before, bAt = v, t
		case t.After(start) && (dAt.IsZero() || t.After(dAt)):
			during, dAt = v, t
		}
	}
	return before, bAt, during, dAt
}

// TrialFromRecords judges the trial period (002) from what was posted: the latest
// pain score on or before the trial's start against the latest one after it (up to
// at), and the oral morphine equivalent of the opioids taken at the start against
// those taken at at (reduced medication). A missing score, or an OME that is only a
// lower bound at the end, is a 422 naming what is missing: a positive trial is not
// assumed.
func TrialFromRecords(start, at time.Time, observations, medications [][]byte) (TrialResult, error) {
	before, bAt, during, dAt := TrialPainScores(start, at, observations)
	sec := rules.TrialRelief.Section
	if bAt.IsZero() || dAt.IsZero() {
		return TrialResult{}, fhir.Errorf(http.StatusUnprocessableEntity, "required", "Observation",
			"the trial's result needs a pain score before its start (%s) and one during it: before %v, during %v (%s)",
			start.Format("2006-01-02"), !bAt.IsZero(), !dAt.IsZero(), seedText(sec))
	}
	omeBefore, omeAfter := omeAt(medications, start), omeAt(medications, at)
	if omeAfter.LowerBound {
		return TrialResult{}, fhir.Errorf(http.StatusUnprocessableEntity, "incomplete", "MedicationStatement",
			"the medication during the trial cannot be compared: %s (%s)", lastIssue(omeAfter), seedText(sec))
	}
	reduced := omeAfter.MgPerDay < omeBefore.MgPerDay
	r := AssessTrial(before, during, reduced)
	r.OMEBefore, r.OMEAfter = omeBefore.MgPerDay, omeAfter.MgPerDay
	r.Issues = append(r.Issues, fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational", Expression: []string{"Observation"},
		Diagnostics: fmt.Sprintf("trial: pain %g before, %g during (%.0f %% relief, at least %g %% needed); oral morphine equivalent %g mg/d before, %g mg/d during (%s)",
			before, during, r.ReliefPc, rules.TrialRelief.Value, omeBefore.MgPerDay, omeAfter.MgPerDay, seedText(sec)),
		Details: seedDetails(sec)})
	return r, nil
}

func lastIssue(r OMEResult) string {
	if len(r.Issues) == 0 {
		return ""
	}
	return r.Issues[len(r.Issues)-1].Diagnostics
}
