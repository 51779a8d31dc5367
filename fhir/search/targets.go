package search

import (
	"regexp"
	"strings"
	"sync"
)

// plainPath is an expression that names an element and nothing more
// (Observation.subject), as opposed to one that filters (….where(resolve() is
// Patient)), whose targets are narrower than the element's.
var plainPath = regexp.MustCompile(`^[A-Z][A-Za-z]+(\.[a-z][A-Za-z0-9]*)+$`)

// referenceTargets maps an element (Observation.subject) to the resource types its
// references may name, from the official reference search parameters whose
// expression names that element plainly: their target lists are the element's
// targetProfile types. Elements no parameter names plainly are absent.
type referenceTargets struct {
	once sync.Once
	m    map[string]map[string]bool
}

func (rt *referenceTargets) build(r *Registry) {
	rt.m = map[string]map[string]bool{}
	for _, byCode := range r.byType {
		for _, p := range byCode {
			if p.Type != "reference" || len(p.Targets) == 0 {
				continue
			}
			for _, branch := range strings.Split(p.Expression, "|") {
				branch = strings.TrimSpace(strings.Trim(strings.TrimSpace(branch), "()"))
				if !plainPath.MatchString(branch) {
					continue
				}
				set := rt.m[branch]
				if set == nil {
					set = map[string]bool{}
					rt.m[branch] = set
				}
				for _, t := range p.Targets {
					set[t] = true
				}
			}
		}
	}
}

// ReferenceAllows reports whether a reference in element may name a resource of
// type target; known is false when no definition says (then anything goes).
func (s *Engine) ReferenceAllows(element, target string) (allowed, known bool) {
	s.targets.once.Do(func() { s.targets.build(s.reg) })
	set, ok := s.targets.m[element]
	if !ok {
		return true, false
	}
	return set[target] || set["Resource"], true
}
