package pathway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// claimOnlyWhatIsMet checks each entry of the intake's transaction against the AIT
// profiles the intake assigned it. A profile the resource does not meet (the EHR sent
// less than the profile asks: no RPPS number, no report conclusion…) is withdrawn from
// that entry, which is then stored as sent, and the reasons are reported as warnings:
// the referral goes through, and the dossier status says what is missing (000 §V).
// Profiles the sender claimed itself are never withdrawn: its claim is checked on
// write like any other.
func claimOnlyWhatIsMet(v rest.Validator, original, bundle []byte) ([]byte, []fhir.Issue, error) {
	if v == nil {
		return bundle, nil, nil
	}
	var b map[string]any
	dec := json.NewDecoder(bytes.NewReader(bundle))
	dec.UseNumber() // numbers keep their literal text
	if err := dec.Decode(&b); err != nil {
		return nil, nil, err
	}
	entries, _ := b["entry"].([]any)
	var issues []fhir.Issue
	changed := false
	for i, e := range entries {
		entry, _ := e.(map[string]any)
		res, _ := entry["resource"].(map[string]any)
		meta, _ := res["meta"].(map[string]any)
		profiles, _ := meta["profile"].([]any)
		var added []string
		for _, p := range profiles {
			if s, _ := p.(string); strings.HasPrefix(s, mapping.Base) && !bytes.Contains(original, []byte(s)) {
				added = append(added, s)
			}
		}
		if len(added) == 0 {
			continue
		}
		body, err := json.Marshal(res)
		if err != nil {
			return nil, nil, err
		}
		typ, _ := res["resourceType"].(string)
		oo := v.ValidateWrite(typ, body, false)
		if oo == nil || !oo.HasErrors() {
			continue
		}
		keep := []any{}
		for _, p := range profiles {
			if s, _ := p.(string); !contains(added, s) {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			delete(meta, "profile")
		} else {
			meta["profile"] = keep
		}
		if len(meta) == 0 {
			delete(res, "meta")
		}
		changed = true
		issues = append(issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete",
			Expression:  []string{fmt.Sprintf("Bundle.entry[%d].resource", i)},
			Diagnostics: fmt.Sprintf("kept as sent without %s: %s (000 §V)", strings.Join(added, ", "), firstErrors(oo, 3))})
	}
	if !changed {
		return bundle, issues, nil
	}
	out, err := json.Marshal(b)
	return out, issues, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// firstErrors summarises the first n errors of an outcome.
func firstErrors(oo *fhir.OperationOutcome, n int) string {
	var parts []string
	for _, is := range oo.Issue {
		if is.Severity != fhir.SeverityError && is.Severity != fhir.SeverityFatal {
			continue
		}
		if len(parts) == n {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, is.Diagnostics)
	}
	return strings.Join(parts, "; ")
}
