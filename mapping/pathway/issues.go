package pathway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// Every clinical warning the rules raise on a write (checkClinical, whatever rule
// raised it through Writer.Warn) becomes a DetectedIssue, in the same transaction:
//
//   - status final, severity high (error), moderate (warning); code: the seed
//     section (ait-seed-section) and the issue type; detail: the warning's text;
//     implicated: the resource written; patient: its subject; identifier: one per
//     resource and rule, so that writing the same resource again raises no twin;
//   - linked from the patient's pathway CarePlan (CarePlan.supportingInfo: R4's
//     addresses takes Conditions only);
//   - searchable (DetectedIssue?patient=…, ?implicated=…, ?code=…);
//   - resolved when the resource is written again without the warning: status
//     cancelled, with a mitigation saying it was corrected (R4 has no "resolved"
//     status; the ObservationStatus "cancelled" plus the mitigation is the closest).
//
// The warnings still travel with the response: each transaction entry's
// response.outcome; for a single write, the OperationOutcome that Prefer:
// return=OperationOutcome selects (a 201's body is the resource, by the
// specification), and a Link header to the DetectedIssues of the resource. Each
// warning gains an informational issue naming its DetectedIssue.

// recordIssues turns the clinical warnings raised on rec into DetectedIssues and
// resolves those of rec the write no longer raises.
func (h *Hook) recordIssues(w *rest.Writer, rec *fhir.Record, raised []fhir.Issue) error {
	implicated := rec.Type + "/" + rec.ID
	m := decode(rec.Body)
	patient := subjectOf(m)
	current := map[string]bool{}
	var made []string
	for _, is := range raised {
		if is.Severity != fhir.SeverityWarning && is.Severity != fhir.SeverityError {
			continue
		}
		id := issueID(implicated, is)
		current[id] = true
		existing, err := currentBody(w, "DetectedIssue", id)
		if err != nil {
			return err
		}
		if existing != nil && str(decode(existing), "status") == "final" {
			continue // raised before, still open
		}
		if _, _, err := w.Put("DetectedIssue", id, detectedIssue(is, id, implicated, patient, w), http.MethodPut, 0); err != nil {
			return err
		}
		made = append(made, "DetectedIssue/"+id)
	}
	if len(made) > 0 {
		w.Warn(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational", Expression: []string{rec.Type},
			Diagnostics: "clinical issues recorded: " + strings.Join(made, ", ") + " (search DetectedIssue?implicated=" + implicated + ")"})
	}
	if err := h.resolveIssues(w, implicated, current); err != nil {
		return err
	}
	return h.linkIssues(w, m, made)
}

// resolveIssues cancels, with a mitigation, the open DetectedIssues of implicated
// that the write no longer raised: the step was corrected.
func (h *Hook) resolveIssues(w *rest.Writer, implicated string, current map[string]bool) error {
	ids, err := w.Match("DetectedIssue", "implicated="+url.QueryEscape(implicated))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if current[id] {
			continue
		}
		b, err := currentBody(w, "DetectedIssue", id)
		if err != nil || b == nil {
			return err
		}
		di := decode(b)
		if str(di, "status") != "final" || !gatewayIssue(di) {
			continue
		}
		di["status"] = "cancelled"
		di["mitigation"] = []any{map[string]any{
			"action": map[string]any{"text": "resolved: " + implicated + " was corrected and no longer raises this issue"},
			"date":   fhir.FormatInstant(w.Now())}}
		delete(di, "meta")
		nb, _ := json.Marshal(di)
		if _, _, err := w.Put("DetectedIssue", id, nb, http.MethodPut, 0); err != nil {
			return err
		}
	}
	return nil
}

// linkIssues links new DetectedIssues from the patient's pathway CarePlan.
func (h *Hook) linkIssues(w *rest.Writer, m object, made []string) error {
	if len(made) == 0 {
		return nil
	}
	cpID, cpBody, err := findCarePlan(w, m)
	if err != nil || cpBody == nil {
		return nil // no single pathway to link from: the DetectedIssue names the patient
	}
	p, err := loadPathway(w, cpID, str(m, "resourceType")+"/"+str(m, "id"))
	if err != nil {
		return nil // no state the gateway keeps: nothing to link from
	}
	changed := false
	for _, ref := range made {
		var added bool
		if p, added = p.WithIssue(ref); added {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return savePathway(w, cpID, p)
}

// gatewayIssue reports whether a DetectedIssue is one the gateway recorded.
func gatewayIssue(di object) bool {
	for _, i := range objs(di, "identifier") {
		if str(i, "system") == mapping.IdentifierDetectedIssue {
			return true
		}
	}
	return false
}

// issueID is the DetectedIssue id of one rule on one resource: the same rule raised
// again on the same resource is the same issue.
func issueID(implicated string, is fhir.Issue) string {
	key := implicated + "|" + is.Code + "|" + strings.Join(is.Expression, ",")
	if is.Details != nil {
		for _, c := range is.Details.Coding {
			key += "|" + c.System + "#" + c.Code
		}
	} else {
		key += "|" + is.Diagnostics
	}
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// detectedIssue renders the R4 DetectedIssue of a warning.
func detectedIssue(is fhir.Issue, id, implicated, patient string, w *rest.Writer) []byte {
	sev := map[string]string{fhir.SeverityError: "high", fhir.SeverityWarning: "moderate"}[is.Severity]
	var codings []any
	text := is.Code
	if is.Details != nil {
		for _, c := range is.Details.Coding {
			codings = append(codings, map[string]any{"system": c.System, "code": c.Code})
		}
		if is.Details.Text != "" {
			text = is.Details.Text + " (" + is.Code + ")"
		}
	}
	if len(codings) == 0 {
		// a rule that names its seed in the text only: "(000 §VI)"
		if m := seedInText.FindAllStringSubmatch(is.Diagnostics, -1); len(m) > 0 {
			section := m[len(m)-1][1]
			codings = append(codings, map[string]any{"system": mapping.CodeSystemSeed, "code": section})
			text = section + " (" + is.Code + ")"
		}
	}
	codings = append(codings, map[string]any{"system": "http://hl7.org/fhir/issue-type", "code": is.Code})
	di := map[string]any{
		"resourceType":       "DetectedIssue",
		"identifier":         []any{map[string]any{"system": mapping.IdentifierDetectedIssue, "value": id}},
		"status":             "final",
		"code":               map[string]any{"coding": codings, "text": text},
		"severity":           sev,
		"identifiedDateTime": fhir.FormatInstant(w.Now()),
		"implicated":         []any{map[string]any{"reference": implicated}},
		"detail":             is.Diagnostics + exprSuffix(is.Expression),
	}
	if strings.HasPrefix(patient, "Patient/") {
		di["patient"] = map[string]any{"reference": patient}
	}
	b, _ := json.Marshal(di)
	return b
}

func exprSuffix(expr []string) string {
	if len(expr) == 0 {
		return ""
	}
	return " [" + strings.Join(expr, ", ") + "]"
}

// seedInText finds a seed section cited in a message: "(000 §VI)", "(003)", "(001)".
var seedInText = regexp.MustCompile(`\((\d{3}(?: §[^();,]+)?)\)`)

// currentBody reads the current body of typ/id in the transaction (nil if none).
func currentBody(w *rest.Writer, typ, id string) ([]byte, error) { return current(w.Tx(), typ, id) }
