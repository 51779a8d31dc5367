package profiles

import "github.com/aitgw/aitgw/fhir"

// checkNarrative reports every problem of a Narrative.div with the XHTML rules of R4
// (fhir.CheckNarrative, the parser's rules too: one definition for both) as issues at
// expr.
func checkNarrative(div, expr string) []fhir.Issue {
	var out []fhir.Issue
	for _, p := range fhir.CheckNarrative(div) {
		out = append(out, fhir.Issue{Severity: fhir.SeverityError, Code: "value", Expression: []string{expr},
			Diagnostics: "base R4 narrative (" + p.Rule + "): " + p.Message})
	}
	return out
}
