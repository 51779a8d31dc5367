package pathway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// checkClinical applies, inside the write's transaction, the clinical rules of the
// resource just written: prescription safety (000 §IX), the refill schedule (000
// §XIII, 001), the RCP decision against technique and indication (000 §IV, §VI) and
// the cimentoplasty prerequisites (004). A hard limit is the *fhir.Error 422 that
// rolls the write back; the rest are warnings on the write's response.
func (h *Hook) checkClinical(ctx context.Context, w *rest.Writer, rec *fhir.Record) error {
	if rec.Type != "MedicationRequest" && rec.Type != "Procedure" && rec.Type != "Task" {
		return nil
	}
	m := decode(rec.Body)
	if m == nil {
		return nil
	}
	switch {
	case rec.Type == "MedicationRequest" && mapping.IsIntrathecalPrescription(rec.Body):
		return checkPrescription(w, rec, m)
	case rec.Type == "Procedure" && hasCode([]object{obj(m, "code")}, mapping.CodeSystemAIT, mapping.CodeRefill):
		return h.checkRefill(ctx, w, m)
	case rec.Type == "Task" && hasCode([]object{obj(m, "code")}, mapping.CodeSystemAIT, mapping.CodeRCPReview):
		return h.checkRCP(w, m)
	case rec.Type == "Procedure" && isCimentoplasty(m):
		return checkCimentoplasty(w, m)
	}
	return nil
}

// split422 returns the error issues as a 422 and passes the others on as warnings.
func split422(w *rest.Writer, issues []fhir.Issue) error {
	var errs, rest []fhir.Issue
	for _, is := range issues {
		if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
			errs = append(errs, is)
		} else {
			rest = append(rest, is)
		}
	}
	if len(errs) > 0 {
		return fhir.Issues(http.StatusUnprocessableEntity, errs...)
	}
	w.Warn(rest...)
	return nil
}

// asWarnings downgrades issues to warnings (a rule the write must not be refused for).
func asWarnings(issues []fhir.Issue) []fhir.Issue {
	out := make([]fhir.Issue, len(issues))
	for i, is := range issues {
		is.Severity = fhir.SeverityWarning
		out[i] = is
	}
	return out
}

// ofPatient returns the current bodies of typ about the patient, inside the write.
func ofPatient(w *rest.Writer, typ, subject string) ([][]byte, error) {
	if subject == "" {
		return nil, nil
	}
	return txRecords{w}.Search(typ, "subject="+url.QueryEscape(subject))
}

// medicationBody is the Medication a MedicationRequest references in the store (nil
// for a contained one or none).
func medicationBody(w *rest.Writer, req object) ([]byte, error) {
	typ, id, ok := split(ref(req, "medicationReference"))
	if !ok || typ != "Medication" {
		return nil, nil
	}
	return current(w.Tx(), typ, id)
}

// checkPrescription applies 000 §IX to an intrathecal MedicationRequest: the patient's
// psychosis (ziconotide), the previous intrathecal prescription (ziconotide steps at
// least 48 h apart and below 2.4 ug/d) and the systemic opioids' OME (morphine start)
// are read in the transaction.
func checkPrescription(w *rest.Writer, rec *fhir.Record, req object) error {
	subject := subjectOf(req)
	med, err := medicationBody(w, req)
	if err != nil {
		return err
	}
	pctx := mapping.PrescriptionContext{}
	conds, err := ofPatient(w, "Condition", subject)
	if err != nil {
		return err
	}
	for _, b := range conds {
		c := decode(b)
		if !activeCondition(c) {
			continue
		}
		for _, cc := range rules.ConditionCodes {
			if cc.Condition == "psychosis" && hasCode([]object{obj(c, "code")}, mapping.SystemSNOMED, cc.SNOMED) {
				pctx.Psychosis = true
			}
		}
	}
	if pctx.Previous, err = previousDoses(w, rec, req, subject); err != nil {
		return err
	}
	stmts, err := ofPatient(w, "MedicationStatement", subject)
	if err != nil {
		return err
	}
	pctx.SystemicOME = mapping.OME(stmts).MgPerDay
	issues, err := mapping.CheckPrescription(rec.Body, med, pctx)
	if err != nil {
		return err
	}
	return split422(w, issues)
}

// previousDoses reads the patient's latest other intrathecal prescription authored
// before this one (000 §IX.1.c); none: this one starts the treatment.
func previousDoses(w *rest.Writer, rec *fhir.Record, req object, subject string) (map[string]mapping.DoseChange, error) {
	at, _ := parseDay(str(req, "authoredOn"))
	ids, err := w.Match("MedicationRequest", "subject="+url.QueryEscape(subject))
	if err != nil || subject == "" {
		return nil, err
	}
	var best map[string]mapping.DoseChange
	var bestAt time.Time
	for _, id := range ids {
		if id == rec.ID {
			continue
		}
		b, err := current(w.Tx(), "MedicationRequest", id)
		if err != nil {
			return nil, err
		}
		if b == nil || !mapping.IsIntrathecalPrescription(b) {
			continue
		}
		other := decode(b)
		if s := str(other, "status"); s == "entered-in-error" || s == "cancelled" {
			continue
		}
		med, err := medicationBody(w, other)
		if err != nil {
			return nil, err
		}
		doses := mapping.PrescribedDoses(b, med)
		var when time.Time
		for _, d := range doses {
			when = d.At
		}
		if when.IsZero() || (!at.IsZero() && !when.Before(at)) || (best != nil && !when.After(bestAt)) {
			continue
		}
		best, bestAt = doses, when
	}
	return best, nil
}

func activeCondition(c object) bool {
	for _, cd := range objs(obj(c, "clinicalStatus"), "coding") {
		if s := str(cd, "code"); s != "active" && s != "recurrence" && s != "relapse" {
			return false
		}
	}
	return true
}

// quantityExt reads the value of a Quantity extension in unit.
func quantityExt(m object, url, unit string) (float64, bool) {
	for _, e := range objs(m, "extension") {
		if str(e, "url") != url {
			continue
		}
		q := obj(e, "valueQuantity")
		if v, ok := q["value"].(float64); ok && (str(q, "code") == unit || str(q, "unit") == unit) {
			return v, true
		}
	}
	return 0, false
}

// checkRefill applies 000 §XIII and 001 to a refill: from the volume instilled and
// the programmed flow, the next refill date within 3 weeks to 3 months, a reservoir of
// 20 to 40 mL, and an alert, to the algologist and the refill-centre physician, when
// the pump would run dry before the refill already scheduled. All are warnings: the
// refill was done; what follows is a correction of the schedule.
func (h *Hook) checkRefill(ctx context.Context, w *rest.Writer, m object) error {
	at, _ := parseDay(str(m, "performedDateTime"))
	volume, okV := quantityExt(m, mapping.ExtVolumeInstilled, "mL")
	flow, okF := quantityExt(m, mapping.ExtFlowRate, "mL/d")
	if at.IsZero() || !okV || !okF {
		w.Warn(fhir.Issue{Severity: fhir.SeverityInformation, Code: "incomplete", Expression: []string{"Procedure.extension"},
			Diagnostics: "no volume instilled (mL) or flow (mL/d) on the refill: the next refill date was not checked against the reservoir (000 §XIII, 001)"})
		return nil
	}
	var scheduled time.Time
	for _, e := range objs(m, "extension") {
		if str(e, "url") == mapping.ExtNextRefill {
			scheduled, _ = parseDay(str(e, "valueDateTime"))
		}
	}
	plan := mapping.PlanRefill(at, volume, flow, scheduled, rules.DefaultConfig())
	w.Warn(asWarnings(plan.Issues)...)
	if !plan.RunsDry {
		return nil
	}
	p := mapping.Pathway{Subject: subjectOf(m)}
	if id, cp, err := findCarePlan(w, m); err == nil && cp != nil {
		if q, err := loadPathway(w, id, "Procedure/"+str(m, "id")); err == nil {
			p = q
		}
	}
	rule, _ := rules.MilestoneByCode(rules.MilestonePumpDry)
	ms := []mapping.Milestone{{Code: rule.Code, Display: rule.Display, Recipients: rule.Recipients, Section: rule.Section,
		At: at, Step: rules.FactRefill, Detail: fmt.Sprintf("dry on %s, refill scheduled %s (%s)",
			plan.DryDate.Format("2006-01-02"), scheduled.Format("2006-01-02"), rule.Section)}}
	return h.notify(ctx, w, p, m, []string{"Procedure/" + str(m, "id")}, ms)
}

// parseDay reads a FHIR date or dateTime; a date without a time is the start of that
// day at the care site (rules.Zone), never midnight UTC.
func parseDay(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, rules.Zone()); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// vertebralLevel is a vertebral level written in a body site ("L2", "T11", "D5").
var vertebralLevel = regexp.MustCompile(`\b[CTDLS][0-9]{1,2}\b`)

// isCimentoplasty reports whether a Procedure is one of the consolidation acts the
// cimentoplasty prerequisites apply to (004).
func isCimentoplasty(m object) bool {
	for _, c := range rules.CimentoplastyCodes {
		if hasCode([]object{obj(m, "code")}, mapping.CodeSystemAIT, c) {
			return true
		}
	}
	return false
}

// cimentoplastySite reads the site (vertebra, pelvis, hip) from Procedure.bodySite.
func cimentoplastySite(m object) string {
	for _, bs := range objs(m, "bodySite") {
		texts := []string{str(bs, "text")}
		for _, c := range objs(bs, "coding") {
			texts = append(texts, str(c, "display"), str(c, "code"))
		}
		for _, t := range texts {
			if vertebralLevel.MatchString(t) {
				return "vertebra"
			}
			for _, s := range rules.CimentoplastySites {
				if strings.Contains(strings.ToLower(t), s.Word) {
					return s.Site
				}
			}
		}
	}
	return ""
}

// checkCimentoplasty applies 004 to a cimentoplasty: the imaging the site needs
// (the patient's ImagingStudies and DiagnosticReports, read alike by
// mapping.ReadImaging: modality, body region, date) and the antithrombotics of the medication
// review. A missing prerequisite refuses an act in preparation (422); an act already
// done is recorded with warnings (the record of what happened is not refused).
func checkCimentoplasty(w *rest.Writer, m object) error {
	subject := subjectOf(m)
	in := mapping.CimentoplastyInput{Site: cimentoplastySite(m)}
	if in.Site == "" {
		w.Warn(fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete", Expression: []string{"Procedure.bodySite"},
			Diagnostics: "the cimentoplasty site (vertebra, pelvis or hip) cannot be read from bodySite: its imaging prerequisites were not checked (" + rules.CimentoplastySection + ")"})
		return nil
	}
	in.At, _ = parseDay(str(m, "performedDateTime"))
	for _, typ := range []string{"ImagingStudy", "DiagnosticReport"} {
		bodies, err := ofPatient(w, typ, subject)
		if err != nil {
			return err
		}
		for _, b := range bodies {
			if im, ok := mapping.ReadImaging(b); ok {
				in.Imaging = append(in.Imaging, im)
			}
		}
	}
	if in.Site == "vertebra" {
		var err error
		if in.PosteriorArchMechanicalRisk, err = posteriorInvolvement(w, subject); err != nil {
			return err
		}
	}
	stmts, err := ofPatient(w, "MedicationStatement", subject)
	if err != nil {
		return err
	}
	for _, b := range stmts {
		st := decode(b)
		if s := str(st, "status"); s != "active" && s != "" {
			continue
		}
		for _, c := range objs(obj(st, "medicationCodeableConcept"), "coding") {
			for _, a := range rules.Antithrombotics {
				if strings.HasPrefix(str(c, "code"), a.ATCPrefix) {
					in.Antithrombotics = append(in.Antithrombotics, a.Molecule)
					break
				}
			}
		}
	}
	issues := mapping.CheckCimentoplasty(in)
	if str(m, "status") != "preparation" {
		issues = asWarnings(issues)
	}
	return split422(w, issues)
}

// posteriorInvolvement reads the posterior-arch involvement of 004 from the patient's
// latest SINS score (003 annex 4): its posterolateral item answered unilateral or
// bilateral is an involvement of the posterior elements, a spine at mechanical risk.
func posteriorInvolvement(w *rest.Writer, subject string) (bool, error) {
	obs, err := ofPatient(w, "Observation", subject)
	if err != nil {
		return false, err
	}
	var latest []byte
	var at string
	for _, b := range obs {
		o := decode(b)
		if !hasCode([]object{obj(o, "code")}, mapping.CodeSystemAIT, "sins-score") {
			continue
		}
		if t := str(o, "effectiveDateTime"); latest == nil || t > at {
			latest, at = b, t
		}
	}
	if latest == nil {
		return false, nil
	}
	answers, err := mapping.ScoreAnswers(latest)
	if err != nil {
		return false, nil // an unreadable score says nothing either way
	}
	return rules.PosteriorArchInvolved[answers["posterior"]], nil
}
