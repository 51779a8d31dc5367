package mapping

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// ScoreObservation computes a score (Mirels or SINS, 003 annex 4) from the answers
// (question → answer code) and renders the score Observation with its components,
// total and interpretation band. subject may be empty. A missing or unknown answer is
// a 422 naming the component.
func ScoreObservation(score rules.Score, answers map[string]string, subject string, at time.Time) ([]byte, error) {
	total := 0
	var comps []any
	var issues []fhir.Issue
	prefix := strings.ToLower(score.Name) + "-" // the guide's component codes: mirels-site…
	for _, q := range score.Questions {
		a, ok := answers[q]
		item, found := scoreItem(score, q, a)
		if !ok || !found {
			issues = append(issues, fhir.Issue{Severity: fhir.SeverityError, Code: "required",
				Diagnostics: fmt.Sprintf("%s: answer %q to %q is not one of %v (%s)", score.Name, a, q, answersOf(score, q), score.Section),
				Expression:  []string{fmt.Sprintf("Observation.component.where(code.coding.code='%s')", prefix+q)}, Details: seedDetails(score.Section)})
			continue
		}
		total += item.Points
		comps = append(comps, map[string]any{
			"code":         map[string]any{"coding": []any{map[string]any{"system": CodeSystemAIT, "code": prefix + q}}},
			"valueInteger": item.Points,
			"extension": []any{map[string]any{"url": ExtScoreAnswer, "valueCoding": map[string]any{
				"system": CodeSystemScore, "code": prefix + q + "-" + a, "display": item.Display}}},
		})
	}
	if len(issues) > 0 {
		return nil, fhir.Issues(http.StatusUnprocessableEntity, issues...)
	}
	band := scoreBand(score, total)
	profile := map[string]string{"Mirels": ProfileMirels, "SINS": ProfileSINS}[score.Name]
	o := map[string]any{
		"resourceType": "Observation",
		"meta":         map[string]any{"profile": []any{profile}},
		"status":       "final",
		"code":         map[string]any{"coding": []any{map[string]any{"system": CodeSystemAIT, "code": prefix + "score"}}, "text": score.Name + " score"},
		"valueInteger": total,
		"interpretation": []any{map[string]any{
			"coding": []any{map[string]any{"system": CodeSystemScore, "code": prefix + band.Code, "display": band.Display}},
			"text":   fmt.Sprintf("%s %d: %s; %s (%s)", score.Name, total, band.Display, band.Advice, score.Section)}},
		"component": comps,
	}
	if !at.IsZero() {
		o["effectiveDateTime"] = at.UTC().Format(time.RFC3339)
	}
	if subject != "" {
		o["subject"] = map[string]any{"reference": subject}
	}
	b, _ := json.Marshal(o)
	return b, nil
}

// Mirels renders the Mirels score Observation (4-12; <= 7, 8, >= 9) from the answers
// to site, pain, size, lesion (003 annex 4).
func Mirels(answers map[string]string, subject string, at time.Time) ([]byte, error) {
	return ScoreObservation(rules.Mirels, answers, subject, at)
}

// SINS renders the SINS score Observation (0-18; 0-6, 7-12, 13-18) from the answers to
// location, pain, lesion, alignment, collapse, posterior (003 annex 4).
func SINS(answers map[string]string, subject string, at time.Time) ([]byte, error) {
	return ScoreObservation(rules.SINS, answers, subject, at)
}

// ScoreAnswers reads the answers from a score Observation posted by a client: each
// component's code is the question, with or without the guide's "mirels-"/"sins-"
// prefix, and its answer the code of its valueCodeableConcept, valueString or
// ExtScoreAnswer coding, with or without the "mirels-question-" (the guide's
// CodeSystemScore code) or "question-" prefix.
func ScoreAnswers(observation []byte) (map[string]string, error) {
	m, err := decodeObject(observation)
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "Observation", "not a JSON object")
	}
	out := map[string]string{}
	for _, c := range objs(m, "component") {
		var q string
		for _, cd := range codings(obj(c, "code")) {
			q = cd.Code
		}
		q = stripScorePrefix(q)
		a := str(c, "valueString")
		for _, cd := range codings(obj(c, "valueCodeableConcept")) {
			a = cd.Code
		}
		for _, e := range objs(c, "extension") {
			if str(e, "url") == ExtScoreAnswer {
				a = str(obj(e, "valueCoding"), "code")
			}
		}
		a = strings.TrimPrefix(stripScorePrefix(a), q+"-") // mirels-site-upper-limb → upper-limb
		if q != "" {
			out[q] = a
		}
	}
	return out, nil
}

// stripScorePrefix removes the guide's score prefix ("mirels-", "sins-") of a
// component or answer code.
func stripScorePrefix(code string) string {
	for _, p := range []string{"mirels-", "sins-"} {
		if strings.HasPrefix(code, p) {
			return strings.TrimPrefix(code, p)
		}
	}
	return code
}

func scoreItem(s rules.Score, q, a string) (rules.ScoreItem, bool) {
	for _, it := range s.Items {
		if it.Question == q && it.Answer == a {
			return it, true
		}
	}
	return rules.ScoreItem{}, false
}

func answersOf(s rules.Score, q string) []string {
	var out []string
	for _, it := range s.Items {
		if it.Question == q {
			out = append(out, it.Answer)
		}
	}
	return out
}

func scoreBand(s rules.Score, total int) rules.ScoreBand {
	for _, b := range s.Bands {
		if total >= b.Min && total <= b.Max {
			return b
		}
	}
	return rules.ScoreBand{Code: "out-of-range", Display: "out of range"}
}

// CimentoplastyInput is what the cimentoplasty prerequisites are checked on (004).
type CimentoplastyInput struct {
	Site string // vertebra, pelvis, hip
	// Imaging is the patient's imaging, ImagingStudy and DiagnosticReport alike
	// (ReadImaging).
	Imaging []Imaging
	// At is the act's date: imaging dated after it does not count (zero: any).
	At time.Time
	// PosteriorArchMechanicalRisk: posterior-arch involvement with mechanical risk.
	PosteriorArchMechanicalRisk bool
	// Antithrombotics are the patient's molecules (rules.AnticoagulantRules keys).
	Antithrombotics []string
}

// CheckCimentoplasty applies the prerequisites of 004: imaging by site ("CT and MRI
// of the spine" for a vertebra: a brain MRI is no spine MRI; rules.CimentoplastyImaging),
// the posterior-arch contraindication, and the antithrombotic rules.
func CheckCimentoplasty(in CimentoplastyInput) []fhir.Issue {
	var out []fhir.Issue
	sec := rules.CimentoplastySection
	need, ok := rules.CimentoplastyImaging[in.Site]
	if !ok {
		out = append(out, issue(fhir.SeverityError, "value", "ServiceRequest.bodySite",
			fmt.Sprintf("cimentoplasty site %q is not vertebra, pelvis or hip (%s)", in.Site, sec)))
	}
	out = append(out, CheckImaging(need, in.Imaging, in.At, "Procedure.bodySite")...)
	if in.PosteriorArchMechanicalRisk {
		out = append(out, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule", Expression: []string{"Observation.component.where(code.coding.code='sins-posterior')"},
			Diagnostics: "posterior-arch involvement with mechanical risk contraindicates cimentoplasty: surgical stabilisation instead (" + sec + ")",
			Details:     seedDetails(sec)})
	}
	for _, mol := range in.Antithrombotics {
		for _, r := range rules.AnticoagulantRules {
			if r.Molecule == mol && r.Action != "keep" {
				d := "antithrombotic " + mol + ": " + r.Action
				if r.StopDays > 0 {
					d += fmt.Sprintf(" %d days before the act", r.StopDays)
				}
				out = append(out, fhir.Issue{Severity: fhir.SeverityWarning, Code: "business-rule", Expression: []string{"MedicationStatement"},
					Diagnostics: d + " (" + r.Section + ")", Details: seedDetails(r.Section)})
			}
		}
	}
	return out
}
