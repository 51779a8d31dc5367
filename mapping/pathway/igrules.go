package pathway

import (
	"fmt"
	"sort"
	"strings"

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
