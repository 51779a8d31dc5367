package pathway

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// catalogueRow is one clinical rule of the catalogue: what it says and its source.
type catalogueRow struct{ Kind, Rule, Source string }

// ruleCatalogue lists the pathway rules the gateway applies, read from the rules
// tables (requirements, who may record a step, delays, who is told what), each with
// its source document by title and section (rules.Cite).
func ruleCatalogue() []catalogueRow {
	var out []catalogueRow
	for _, r := range rules.Requirements {
		out = append(out, catalogueRow{"order", fmt.Sprintf("%s: needs %s first (%s)", r.Fact, r.Needs, r.Why), rules.Cite(r.Section)})
	}
	for _, r := range rules.ActorRules {
		var roles []string
		for role := range r.Roles {
			roles = append(roles, string(role))
		}
		sort.Strings(roles)
		out = append(out, catalogueRow{"actor", fmt.Sprintf("%s: %s (%s)", r.Fact, r.Why, strings.Join(roles, ", ")), rules.Cite(r.Section)})
	}
	for _, d := range rules.Deadlines {
		out = append(out, catalogueRow{"delay", fmt.Sprintf("%s after %s: %s", d.Of, d.After, d.Why), rules.Cite(d.Section)})
	}
	for _, m := range rules.Milestones {
		var to []string
		for _, r := range m.Recipients {
			to = append(to, string(r))
		}
		out = append(out, catalogueRow{"notification", fmt.Sprintf("%s → %s", m.Display, strings.Join(to, ", ")), rules.Cite(m.Section)})
	}
	return out
}

// sourceRows are the source documents the rules cite, by title.
func sourceRows() []rules.Source { return rules.Sources }

// dossierRow is one element of the complete AIT dossier, as the referral carries it.
type dossierRow struct{ Element, Resource, Codes, Units, Source string }

// dossierRows lists the checklist of the complete dossier (rules.DossierElements,
// rules.Labs): the codes each element is recognised by and, for labs, the units
// accepted (converted to the canonical one).
func dossierRows() []dossierRow {
	resource := map[rules.ElementKind]string{rules.KindLab: "Observation (laboratory)", rules.KindImaging: "DiagnosticReport or ImagingStudy",
		rules.KindClinical: "Observation", rules.KindDocument: "DocumentReference (type) or Observation", rules.KindReview: "MedicationStatement"}
	var out []dossierRow
	for _, el := range rules.DossierElements {
		row := dossierRow{Element: el.Display, Resource: resource[el.Kind], Source: rules.Cite(el.Section)}
		var codes []string
		for _, c := range el.Codes {
			codes = append(codes, mapping.ResolveCode(c))
		}
		keys := el.AnyOf
		if el.Kind == rules.KindLab && len(keys) == 0 {
			keys = []string{el.Key}
		}
		var units []string
		for _, k := range keys {
			if lab, ok := rules.LabByKey(k); ok {
				for _, c := range lab.LOINC {
					codes = append(codes, mapping.SystemLOINC+"|"+c)
				}
				units = append(units, lab.Unit)
				for _, u := range lab.Units {
					units = append(units, u.Unit)
				}
			}
		}
		row.Codes, row.Units = strings.Join(codes, ", "), strings.Join(dedupe(units), ", ")
		out = append(out, row)
	}
	return out
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
