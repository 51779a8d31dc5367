package profiles

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/aitgw/aitgw/fhir"
	"github.com/gofhir/fhirpath"
)

// maxProfileDepth bounds profile checks of reference targets that themselves
// reference further targets.
const maxProfileDepth = 6

// regexMu serialises invariants that use matches(): see invariant.usesRegex.
var regexMu sync.Mutex

// node is an element of the instance and its FHIRPath location.
type node struct {
	val  any
	expr string
}

// checkProfile checks the instance at expr against sd. scope is the resource whose
// contained resources "#id" references resolve in.
func (r *run) checkProfile(sd *structureDef, val any, body []byte, expr string, scope any) {
	if t, _ := field(val, "resourceType").(string); sd.typ != "Extension" && t != sd.typ {
		r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{expr},
			Diagnostics: fmt.Sprintf("[%s] the profile is for %s, not %s", sd.name, sd.typ, t)})
		return
	}
	root := node{val, expr}
	for _, e := range sd.elements {
		if r.decided() {
			return
		}
		r.checkElement(sd, e, root, scope)
	}
	if !r.decided() {
		r.checkInvariants(sd, sd.root, []node{root}, body, scope)
	}
}

// checkElement finds the instances of e under root and checks them.
func (r *run) checkElement(sd *structureDef, e *elementRule, root node, scope any) {
	parents := []node{root}
	for i, seg := range e.segs {
		last := i == len(e.segs)-1
		var next []node
		for _, p := range parents {
			kids, unresolved := r.children(p, seg, scope)
			if last {
				r.checkCardinality(sd, e, p, seg, kids, unresolved, scope)
			}
			next = append(next, kids...)
		}
		parents = next
	}
	for _, k := range parents {
		r.checkValue(sd, e, k, scope)
	}
	if e.slicing != nil && e.slicing.rules == "closed" {
		r.checkClosed(sd, e, parents, scope)
	}
	r.checkInvariants(sd, e, parents, nil, scope)
}

// children returns the values of seg under p, keeping only those in seg's slice.
// unresolved reports that slice membership could not be decided for some items
// (their reference target could not be resolved).
func (r *run) children(p node, seg pathSeg, scope any) (kids []node, unresolved bool) {
	m, ok := p.val.(map[string]any)
	if !ok {
		return nil, false
	}
	var keys []string
	if base, choice := strings.CutSuffix(seg.name, "[x]"); choice {
		for k := range m {
			if strings.HasPrefix(k, base) && len(k) > len(base) && unicode.IsUpper(rune(k[len(base)])) {
				keys = append(keys, k)
			}
		}
	} else if _, ok := m[seg.name]; ok {
		keys = []string{seg.name}
	}
	if len(keys) == 0 {
		// a primitive may be present by its extensions alone ("_effectiveDateTime":
		// data-absent-reason): it counts for cardinality
		for k := range m {
			if name, ok := strings.CutPrefix(k, "_"); ok && (name == seg.name || strings.HasSuffix(seg.name, "[x]") &&
				strings.HasPrefix(name, strings.TrimSuffix(seg.name, "[x]")) && len(name) > len(seg.name)-3 && unicode.IsUpper(rune(name[len(seg.name)-3]))) {
				keys = append(keys, k)
			}
		}
	}
	for _, k := range keys {
		if arr, ok := m[k].([]any); ok {
			for i, it := range arr {
				kids = append(kids, node{it, fmt.Sprintf("%s.%s[%d]", p.expr, k, i)})
			}
		} else {
			kids = append(kids, node{m[k], p.expr + "." + k})
		}
	}
	if seg.slice == "" {
		return kids, false
	}
	var in []node
	for _, k := range kids {
		match, decided := r.inSlice(seg, k, scope)
		if !decided {
			unresolved = true
		}
		if match {
			in = append(in, k)
		}
	}
	return in, unresolved
}

// inSlice reports whether item belongs to the slice of seg, by the slicing's
// discriminator: pattern/value (the value at the discriminator path, see discValue,
// or for extensions the url of the slice's extension profile), or profile of the
// resolved reference target. decided is false when the target could not be resolved.
func (r *run) inSlice(seg pathSeg, item node, scope any) (match, decided bool) {
	sl, def := seg.slicedBy.slicing, seg.sliceDef
	switch sl.discType {
	case "pattern", "value":
		if sl.discPath == "url" && len(def.types) > 0 && len(def.types[0].profiles) > 0 {
			u, _ := field(item.val, "url").(string)
			return u == def.types[0].profiles[0], true
		}
		return def.disc != nil && def.disc.matches(item.val), true
	case "profile", "type":
		ref, _ := field(item.val, "reference").(string)
		t, ok := r.lookup(ref, scope, "")
		if !ok {
			return false, false
		}
		for _, tr := range def.types {
			for _, tp := range tr.targetProfiles {
				if r.conforms(ref, t, tp, scope) {
					return true, true
				}
			}
		}
		return false, true
	}
	return false, true
}

// conforms reports whether a resolved target conforms to profile url (a package
// profile) or is of the type of url (a base R4 profile).
func (r *run) conforms(ref string, t target, url string, scope any) bool {
	typ, _ := field(t.node, "resourceType").(string)
	sd := r.v.structures[url]
	if sd == nil {
		base := strings.TrimPrefix(url, "http://hl7.org/fhir/StructureDefinition/")
		return base == typ || base == "Resource"
	}
	if sd.typ != typ {
		return false
	}
	// A target that claims the profile is taken at its word: a Bundle entry is
	// validated against its claims as an entry, and a stored resource was validated
	// against them when it was written. Contained and unclaiming targets are checked.
	if !strings.HasPrefix(ref, "#") && claims(t.node, url) {
		return true
	}
	key := ref + "|" + url
	if v, seen := r.memo[key]; seen {
		return v
	}
	if r.depth >= maxProfileDepth {
		return true // deep chains are not chased further
	}
	r.memo[key] = true // a cycle counts as conforming while in progress
	sub := &run{v: r.v, ctx: r.ctx, resolver: r.resolver, bundle: r.bundle, memo: r.memo, why: r.why, bytes: r.bytes, external: r.external, depth: r.depth + 1, verdict: true}
	body := r.bytes[ref] // as the resolver gave it; nil: marshalled if an invariant needs it
	tscope := t.node
	if strings.HasPrefix(ref, "#") {
		tscope = scope
	}
	sub.checkProfile(sd, t.node, body, typ, tscope)
	ok := true
	for _, is := range sub.issues {
		if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
			if ok {
				r.why[key] = is.Diagnostics + " at " + strings.Join(is.Expression, ", ")
			}
			ok = false
		}
	}
	r.memo[key] = ok
	return ok
}

func (r *run) checkCardinality(sd *structureDef, e *elementRule, parent node, seg pathSeg, kids []node, unresolved bool, scope any) {
	name := seg.name
	if seg.slice != "" {
		name += " (slice " + seg.slice + ")"
	}
	if e.hasMin && len(kids) < e.min {
		msg := fmt.Sprintf("%s: minimum cardinality %d, found %d", name, e.min, len(kids))
		if u := sd.extensionURL(e); seg.slice != "" && u != "" {
			msg = fmt.Sprintf("%s: the extension %s is required (minimum cardinality %d, found %d)", name, u, e.min, len(kids))
			if other := r.unslicedExtensions(seg, parent, scope); len(other) > 0 {
				msg += "; present instead: " + strings.Join(other, ", ") + ", which no slice defines"
			}
		}
		is := r.ruleIssue(sd, e, fhir.SeverityError, "required", parent.expr+"."+strings.TrimSuffix(seg.name, "[x]"), msg)
		if unresolved {
			is.Severity = fhir.SeverityWarning
			is.Diagnostics += "; some references could not be resolved, so this could not be fully checked"
		}
		r.add(is)
	}
	if e.hasMax && e.max >= 0 && len(kids) > e.max {
		r.add(r.ruleIssue(sd, e, fhir.SeverityError, "structure", kids[e.max].expr,
			fmt.Sprintf("%s: maximum cardinality %d, found %d", name, e.max, len(kids))))
	}
}

// checkValue checks one instance of e: choice types, fixed and pattern values,
// required binding, reference targets and profiles of the element's type.
func (r *run) checkValue(sd *structureDef, e *elementRule, k node, scope any) {
	last := e.segs[len(e.segs)-1]
	if base, choice := strings.CutSuffix(last.name, "[x]"); choice && len(e.types) > 0 {
		// the instance's key, "effectiveDateTime" or "_effectiveDateTime" (present by
		// its extensions alone), less the element's name
		key := k.expr[strings.LastIndexByte(k.expr, '.')+1:]
		if i := strings.IndexByte(key, '['); i >= 0 {
			key = key[:i]
		}
		key = strings.TrimPrefix(strings.TrimPrefix(key, "_"), base)
		ok := false
		for _, t := range e.types {
			if strings.EqualFold(t.code, key) {
				ok = true
			}
		}
		if !ok {
			r.add(r.ruleIssue(sd, e, fhir.SeverityError, "structure", k.expr,
				fmt.Sprintf("%s: type %s is not allowed (allowed: %s)", e.path, key, typeCodes(e.types))))
			return
		}
	}
	if e.fixed != nil && !jsonEqual(k.val, e.fixed) {
		r.add(r.ruleIssue(sd, e, fhir.SeverityError, "value", k.expr, fmt.Sprintf("%s must be exactly %s", e.path, compact(e.fixed))))
	}
	if e.pattern != nil && !containsPattern(k.val, e.pattern) {
		r.add(r.ruleIssue(sd, e, fhir.SeverityError, "value", k.expr, fmt.Sprintf("%s must match the pattern %s", e.path, compact(e.pattern))))
	}
	if e.valueSet != "" {
		if !r.v.valueSets[e.valueSet].containsValue(k.val) {
			r.add(r.ruleIssue(sd, e, fhir.SeverityError, "code-invalid", k.expr,
				fmt.Sprintf("%s: the code is not in ValueSet %s (required binding)", e.path, e.valueSet)))
		}
	}
	for _, t := range e.types {
		if t.code == "Reference" && len(t.targetProfiles) > 0 {
			r.checkReference(sd, e, k, t.targetProfiles, scope)
		}
		for _, p := range t.profiles {
			if psd := r.v.structures[p]; psd != nil {
				b, _ := json.Marshal(k.val)
				r.checkProfile(psd, k.val, b, k.expr, scope)
			}
		}
	}
}

// checkReference checks the type of a reference's target and, when it resolves, its
// conformance to one of the target profiles.
func (r *run) checkReference(sd *structureDef, e *elementRule, k node, targets []string, scope any) {
	ref, _ := field(k.val, "reference").(string)
	if ref == "" {
		return
	}
	allowed := map[string]bool{}
	for _, tp := range targets {
		if psd := r.v.structures[tp]; psd != nil {
			allowed[psd.typ] = true
		} else {
			allowed[strings.TrimPrefix(tp, "http://hl7.org/fhir/StructureDefinition/")] = true
		}
	}
	t, ok := r.lookup(ref, scope, "")
	var typ string
	if ok {
		typ, _ = field(t.node, "resourceType").(string)
	} else if parts := strings.Split(ref, "/"); len(parts) >= 2 && !strings.HasPrefix(ref, "urn:") {
		typ = parts[len(parts)-2]
	}
	if typ != "" && !allowed[typ] && !allowed["Resource"] {
		r.add(r.ruleIssue(sd, e, fhir.SeverityError, "structure", k.expr+".reference",
			fmt.Sprintf("%s: reference to a %s, expected %s", e.path, typ, strings.Join(keys(allowed), " or "))))
		return
	}
	if !ok {
		return
	}
	var why []string
	for _, tp := range targets {
		if r.conforms(ref, t, tp, scope) {
			return
		}
		if w := r.why[ref+"|"+tp]; w != "" {
			why = append(why, w)
		}
	}
	msg := fmt.Sprintf("%s: the target %s does not conform to %s", e.path, ref, strings.Join(targets, " or "))
	if len(why) > 0 {
		msg += "; first error: " + why[0]
	}
	r.add(r.ruleIssue(sd, e, fhir.SeverityError, "structure", k.expr+".reference", msg))
}

// checkInvariants evaluates e's FHIRPath invariants on each instance. body is the
// instance's JSON when the caller has it.
func (r *run) checkInvariants(sd *structureDef, e *elementRule, at []node, body []byte, scope any) {
	for _, inv := range e.invariant {
		for _, n := range at {
			if inv.required != nil {
				r.checkRequiredCode(sd, inv, n, scope)
				continue
			}
			b := body
			if b == nil {
				b, _ = json.Marshal(n.val)
			}
			withModel := e.modelType != ""
			if withModel && field(n.val, "resourceType") == nil {
				b = typed(b, e.modelType)
			}
			res := &fhirpathResolver{r: r, scope: scope, expr: ""}
			out, err := inv.evaluate(r.ctx, b, res, withModel)
			sev := fhir.SeverityError
			if inv.severity == "warning" {
				sev = fhir.SeverityWarning
			}
			code := "invariant"
			if inv.seed != "" {
				code = "business-rule"
			}
			msg := fmt.Sprintf("%s: %s", inv.key, inv.human)
			switch {
			case err != nil:
				r.add(r.issue(sd, sev, code, n.expr, msg+" (could not be evaluated: "+err.Error()+")", inv.seed))
			case isFalse(out):
				if len(res.misses) > 0 {
					sev = fhir.SeverityWarning
					msg += fmt.Sprintf(" (not fully checked: %d reference(s) could not be resolved)", len(res.misses))
				}
				r.add(r.issue(sd, sev, code, n.expr, msg, inv.seed))
			}
		}
	}
}

// isFalse: an invariant fails when it evaluates to false; empty means "not applicable".
func isFalse(c fhirpath.Collection) bool {
	if len(c) != 1 {
		return false
	}
	return c[0].String() == "false"
}

func (r *run) ruleIssue(sd *structureDef, e *elementRule, sev, code, expr, msg string) fhir.Issue {
	return r.issue(sd, sev, code, expr, msg, e.seed)
}

// issue builds an issue naming the profile and, for a clinical rule, its seed section
// in the message and in details.coding.
func (r *run) issue(sd *structureDef, sev, code, expr, msg, seed string) fhir.Issue {
	is := fhir.Issue{Severity: sev, Code: code, Expression: []string{expr}, Diagnostics: "[" + sd.name + "] " + msg}
	if seed != "" {
		if !strings.Contains(msg, "("+seed+")") {
			is.Diagnostics += " (" + seed + ")"
		}
		is.Details = &fhir.CodeableText{Coding: []fhir.Coding{{System: r.v.seedSystem, Code: seed}}, Text: seed}
	}
	return is
}

// containsValue reports whether a code, Coding, Quantity or CodeableConcept has a
// code in the value set.
func (vs *valueSet) containsValue(v any) bool {
	switch x := v.(type) {
	case string:
		return vs.contains("", x)
	case map[string]any:
		if codings, ok := x["coding"].([]any); ok {
			for _, c := range codings {
				if vs.containsValue(c) {
					return true
				}
			}
			return false
		}
		code, _ := x["code"].(string)
		system, _ := x["system"].(string)
		return code != "" && vs.contains(system, code)
	}
	return false
}

// containsPattern implements pattern[x]: every property of the pattern is in the
// value, arrays matching when each pattern item matches some value item.
func containsPattern(v, pattern any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range p {
			if !containsPattern(m[k], pv) {
				return false
			}
		}
		return true
	case []any:
		arr, ok := v.([]any)
		if !ok {
			return false
		}
		for _, pi := range p {
			found := false
			for _, vi := range arr {
				if containsPattern(vi, pi) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case string:
		s, ok := v.(string)
		return ok && s == p
	default:
		return jsonEqual(v, pattern)
	}
}

func typeCodes(ts []typeRef) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.code)
	}
	return strings.Join(s, ", ")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// claims reports whether a resource lists url in meta.profile.
func claims(res any, url string) bool {
	list, _ := field(field(res, "meta"), "profile").([]any)
	for _, c := range list {
		if s, _ := c.(string); strings.SplitN(s, "|", 2)[0] == url {
			return true
		}
	}
	return false
}

// evaluate runs the invariant's FHIRPath on b (see invariant.usesRegex for the lock).
// typed: b's "resourceType" names its base R4 type (elementRule.modelType), and the
// engine navigates with the base model: choice elements by their R4 types instead of
// some fifty suffixes tried on each absent one, dates and decimals by their types.
func (inv *invariant) evaluate(ctx context.Context, b []byte, res *fhirpathResolver, typed bool) (fhirpath.Collection, error) {
	if inv.usesRegex {
		regexMu.Lock()
		defer regexMu.Unlock()
	}
	if typed {
		if m, err := loadBase(); err == nil {
			return inv.expr.EvaluateWithOptions(b, fhirpath.WithResolver(res), fhirpath.WithContext(ctx), fhirpath.WithModel(m.fhirpath))
		}
	}
	return inv.expr.EvaluateWithOptions(b, fhirpath.WithResolver(res), fhirpath.WithContext(ctx))
}
