package profiles

import (
	"fmt"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// requiredCode is a table-driven rule kind: some target of the references in pool
// has one of codes (system|code; equivalents the referential accepts alike, e.g. PT in
// seconds, as % or as INR) in its CodeableConcept element. The dossier's labs and
// imaging (000 §V) are such rules, one per table row, each with its own seed
// section. The constraint still states the rule in FHIRPath for other validators;
// this validator checks at load that the FHIRPath says exactly that (so the two
// cannot drift apart), then resolves the pool once per instance for every row
// instead of once per row in gofhir.
type requiredCode struct {
	pool, element []string // dotted paths: the references, the target's CodeableConcept
	codes         []systemCode
}

// systemCode is one accepted code of a required-code rule.
type systemCode struct{ system, code string }

// requiredCodeExpression is the FHIRPath a required-code rule stands for: one code is
// "system='s' and code='c'", several are "(…) or (…)" in the extension's order.
func requiredCodeExpression(pool, element string, codes []systemCode) string {
	tests := make([]string, len(codes))
	for i, c := range codes {
		tests[i] = fmt.Sprintf("system='%s' and code='%s'", c.system, c.code)
	}
	match := tests[0]
	if len(tests) > 1 {
		match = "(" + strings.Join(tests, ") or (") + ")"
	}
	return fmt.Sprintf("%s.resolve().where(%s.coding.where(%s).exists()).exists()", pool, element, match)
}

// compileRequiredCode reads the rule from the constraint's extension (nil if it has
// none) and refuses it when the constraint's expression says something else.
func compileRequiredCode(c rawConstraint, url string) (*requiredCode, error) {
	for _, e := range c.Extension {
		if e.URL != url {
			continue
		}
		var pool, element string
		var codes []systemCode
		for _, part := range e.Extension {
			switch part.URL {
			case "pool":
				pool = part.ValueString
			case "element":
				element = part.ValueString
			case "code":
				if part.ValueCoding != nil && part.ValueCoding.Code != "" {
					codes = append(codes, systemCode{part.ValueCoding.System, part.ValueCoding.Code})
				}
			}
		}
		if pool == "" || element == "" || len(codes) == 0 {
			return nil, fmt.Errorf("invariant %s: required-code rule lacks pool, element or code", c.Key)
		}
		if want := requiredCodeExpression(pool, element, codes); c.Expression != want {
			return nil, fmt.Errorf("invariant %s: expression %q does not state its required-code rule %q", c.Key, c.Expression, want)
		}
		return &requiredCode{pool: strings.Split(pool, "."), element: strings.Split(element, "."), codes: codes}, nil
	}
	return nil, nil
}

// pool is the resolved targets of a reference element and how many references could
// not be resolved.
type pool struct {
	targets []any
	misses  int
}

// poolOf resolves the references at rc.pool under n, once per instance and pool.
func (r *run) poolOf(rc *requiredCode, n node, scope any) *pool {
	key := n.expr + "|" + strings.Join(rc.pool, ".")
	if p, ok := r.pools[key]; ok {
		return p
	}
	p := &pool{}
	for _, ref := range valuesAt(n.val, rc.pool) {
		s, _ := field(ref, "reference").(string)
		if s == "" {
			continue // resolve() yields nothing for a reference without one
		}
		if t, ok := r.lookup(s, scope, ""); ok {
			p.targets = append(p.targets, t.node)
		} else {
			p.misses++
		}
	}
	if r.pools == nil {
		r.pools = map[string]*pool{}
	}
	r.pools[key] = p
	return p
}

// holds reports whether some target of the pool has one of the rule's codes.
func (rc *requiredCode) holds(p *pool) bool {
	for _, t := range p.targets {
		for _, cc := range valuesAt(t, rc.element) {
			for _, c := range valuesAt(cc, []string{"coding"}) {
				for _, want := range rc.codes {
					if field(c, "system") == want.system && field(c, "code") == want.code {
						return true
					}
				}
			}
		}
	}
	return false
}

// valuesAt returns the values at a dotted path under v, arrays flattened as FHIRPath
// navigation does.
func valuesAt(v any, path []string) []any {
	vals := []any{v}
	for _, p := range path {
		var next []any
		for _, v := range vals {
			switch x := field(v, p).(type) {
			case nil:
			case []any:
				next = append(next, x...)
			default:
				next = append(next, x)
			}
		}
		vals = next
	}
	return vals
}

// checkRequiredCode evaluates a required-code invariant on n, with the issue the
// FHIRPath evaluation would give: an error, or a warning when some references of the
// pool could not be resolved.
func (r *run) checkRequiredCode(sd *structureDef, inv *invariant, n node, scope any) {
	p := r.poolOf(inv.required, n, scope)
	if inv.required.holds(p) {
		return
	}
	sev := fhir.SeverityError
	if inv.severity == "warning" {
		sev = fhir.SeverityWarning
	}
	msg := fmt.Sprintf("%s: %s", inv.key, inv.human)
	if p.misses > 0 {
		sev = fhir.SeverityWarning
		msg += fmt.Sprintf(" (not fully checked: %d reference(s) could not be resolved)", p.misses)
	}
	code := "invariant"
	if inv.seed != "" {
		code = "business-rule"
	}
	r.add(r.issue(sd, sev, code, n.expr, msg, inv.seed))
}
