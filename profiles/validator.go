package profiles

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aitgw/aitgw/fhir"
)

// Resolver finds the resource a reference points to (e.g. in the server's store), so
// that reference targets, dossier slices and invariants using resolve() can be checked.
// It returns nil, nil when the reference does not resolve.
type Resolver interface {
	Resolve(ctx context.Context, reference string) ([]byte, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, reference string) ([]byte, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, reference string) ([]byte, error) {
	return f(ctx, reference)
}

// severityRank orders issues: fatal, error, warning, information.
var severityRank = map[string]int{fhir.SeverityFatal: 0, fhir.SeverityError: 1, fhir.SeverityWarning: 2, fhir.SeverityInformation: 3}

// maxIssues bounds the issues of one validation, so that a hostile document with a
// million bad elements costs a bounded answer.
const maxIssues = 500

// Validator checks resources against base R4 (JSON schema) and against the profiles
// of one package. It is immutable after NewValidator and safe for concurrent use.
//
// FHIRPath engine: github.com/gofhir/fhirpath v1.4.0. It evaluates on the raw JSON as
// stored (no model round trip, which loses data in this project), supports resolve()
// through a resolver, %resource, date arithmetic with calendar durations and
// extension(url), which is all the invariants of the guide need; it is already the
// project's engine for search indexing, so one engine serves the whole gateway.
// damedic/fhir-toolbox-go needs its own models (a decode of every resource) and would
// be a second engine to keep in step; it was not benchmarked here. Two gofhir quirks
// shape the guide: comparing a Date with a DateTime is an error rather than empty, so
// date rules compare toDate() on both sides; and its regex cache races (see
// invariant.usesRegex).
type Validator struct {
	pkg        *Package
	base       *baseSchemas
	structures map[string]*structureDef // by canonical URL
	valueSets  map[string]*valueSet
	seedSystem string // CodeSystem of seed sections, for issue details
	// sources are the constraining StructureDefinitions as given (the guide's and the
	// loaded packages'), by URL: the bases of the snapshots of further packages.
	sources map[string][]byte
}

// NewValidator compiles the package's StructureDefinitions, invariants and ValueSets.
// The base R4 schemas compile lazily, per resource type, on first use.
func NewValidator(pkg *Package) (*Validator, error) {
	if _, err := loadBase(); err != nil { // compile base R4 once, at start
		return nil, fmt.Errorf("profiles: base R4 model: %w", err)
	}
	v := &Validator{pkg: pkg, base: &baseSchemas{}, structures: map[string]*structureDef{},
		seedSystem: pkg.Canonical + "/CodeSystem/ait-seed-section", sources: map[string][]byte{}}
	ps := newProfileSet()
	for _, r := range pkg.resources {
		if r.Type == "StructureDefinition" && !r.Example {
			ps.bodies[r.URL] = r.Body
			v.sources[r.URL] = r.Body
		}
	}
	for url := range ps.bodies {
		sd, err := compileProfile(ps, url, pkg.Canonical)
		if err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		v.structures[sd.url] = sd
	}
	vs, err := expandValueSets(pkg)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	v.valueSets = vs
	for _, sd := range v.structures {
		for _, e := range append([]*elementRule{sd.root}, sd.elements...) {
			if e.valueSet != "" && v.valueSets[e.valueSet] == nil {
				return nil, fmt.Errorf("profiles: %s %s binds to unknown ValueSet %s", sd.name, e.id, e.valueSet)
			}
		}
	}
	return v, nil
}

// Package returns the package the validator checks against.
func (v *Validator) Package() *Package { return v.pkg }

// Validate checks body against base R4, against profileURLs, and against the
// package's profiles it claims in meta.profile. References are resolved within the
// resource (contained) and, for a Bundle, within the Bundle.
func (v *Validator) Validate(body []byte, profileURLs ...string) *fhir.OperationOutcome {
	return v.ValidateWith(context.Background(), nil, body, profileURLs...)
}

// ValidateWith is Validate with a resolver for references outside the resource (nil:
// none). Checks that need an unresolvable target are reported as warnings, not errors.
func (v *Validator) ValidateWith(ctx context.Context, resolver Resolver, body []byte, profileURLs ...string) (out *fhir.OperationOutcome) {
	defer func() {
		if p := recover(); p != nil {
			// Never a panic to the caller, and nothing of the resource in the answer.
			out = fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityFatal, Code: "exception",
				Diagnostics: "the validator could not process this resource"})
		}
	}()
	res, ferr := fhir.ParseResource(body)
	if ferr != nil {
		issues := ferr.Outcome.Issue
		for i := range issues {
			issues[i].Severity = fhir.SeverityFatal
		}
		return fhir.NewOutcome(issues...)
	}
	root := decodeJSON(res.Body)
	r := newRun(ctx, v, resolver)
	if res.Type == "Bundle" {
		r.indexBundle(root)
	}
	r.resource(root, res.Body, res.Type, res.Type, profileURLs, nil)
	if r.dropped > 0 {
		// the summary is an error only when errors were among those not reported: a
		// Bundle of 500 ValueSets claiming a foreign profile is valid, only talkative
		sev := fhir.SeverityInformation
		if r.droppedError {
			sev = fhir.SeverityError
		}
		r.issues = append(r.issues, fhir.Issue{Severity: sev, Code: "too-costly",
			Diagnostics: fmt.Sprintf("%d more issues not reported (at most %d are)", r.dropped, maxIssues)})
	}
	if len(r.issues) == 0 {
		r.issues = []fhir.Issue{{Severity: fhir.SeverityInformation, Code: "informational", Diagnostics: "no issues detected"}}
	}
	// errors first: a client (and a 4xx answer) reads the reason of a refusal first
	sort.SliceStable(r.issues, func(i, j int) bool { return severityRank[r.issues[i].Severity] < severityRank[r.issues[j].Severity] })
	return fhir.NewOutcome(r.issues...)
}

// ValidateFile validates one JSON file against base R4 and, when profile is not
// empty, that profile (plus the package profiles the resource claims). It is the
// CLI's entry point: the error is only for an unreadable file.
func ValidateFile(v *Validator, path, profile string) (*fhir.OperationOutcome, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var profiles []string
	if profile != "" {
		profiles = []string{profile}
	}
	return v.Validate(body, profiles...), nil
}

// run is the state of one validation: the issues found, the Bundle's resources by
// reference, and the conformance verdicts of reference targets already checked.
type run struct {
	v        *Validator
	ctx      context.Context
	resolver Resolver
	issues   []fhir.Issue
	bundle   map[string]target
	memo     map[string]bool   // ref|profile -> conforms (true while in progress)
	why      map[string]string // ref|profile -> first error, when it does not conform
	bytes    map[string][]byte // resolved targets as JSON, for resolve() in invariants
	external map[string]target // what the resolver answered, per reference
	pools    map[string]*pool  // resolved reference targets of required-code rules
	depth    int
	// dropped counts the issues past maxIssues; droppedError tells whether any was an
	// error (the verdict must not change with the cap).
	dropped      int
	droppedError bool
	// verdict: only whether the instance conforms matters (a reference target's
	// check), so the run stops at its first error.
	verdict bool
}

// newRun starts a validation with empty caches of reference-target verdicts.
func newRun(ctx context.Context, v *Validator, resolver Resolver) *run {
	return &run{v: v, ctx: ctx, resolver: resolver, memo: map[string]bool{}, why: map[string]string{},
		bytes: map[string][]byte{}, external: map[string]target{}}
}

// decided reports that a verdict run has found an error: the rest is not needed.
func (r *run) decided() bool {
	if !r.verdict {
		return false
	}
	for _, is := range r.issues {
		if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
			return true
		}
	}
	return false
}

// target is a resolved resource: its decoded JSON and where it sits in the input.
type target struct {
	node any
	expr string
}

func (r *run) add(is fhir.Issue) {
	if len(r.issues) < maxIssues {
		r.issues = append(r.issues, is)
		return
	}
	r.dropped++
	if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
		// an error takes the place of the last warning or information: the answer
		// shows why the resource is refused
		for i := len(r.issues) - 1; i >= 0; i-- {
			if sev := r.issues[i].Severity; sev != fhir.SeverityError && sev != fhir.SeverityFatal {
				r.issues = append(r.issues[:i], r.issues[i+1:]...)
				r.issues = append(r.issues, is)
				return
			}
		}
		r.droppedError = true
	}
}

// indexBundle indexes the entries by fullUrl and by Type/id.
func (r *run) indexBundle(root any) {
	r.bundle = map[string]target{}
	entries, _ := field(root, "entry").([]any)
	for i, e := range entries {
		res := field(e, "resource")
		expr := fmt.Sprintf("Bundle.entry[%d].resource", i)
		if fu, ok := field(e, "fullUrl").(string); ok && fu != "" {
			r.bundle[fu] = target{res, expr}
		}
		typ, _ := field(res, "resourceType").(string)
		id, _ := field(res, "id").(string)
		if typ != "" && id != "" {
			r.bundle[typ+"/"+id] = target{res, expr}
		}
	}
}

// resource validates one resource at expr: base R4, nested resources, then profiles.
// container is the resource holding it (for contained ones), nil at the top.
func (r *run) resource(node any, body []byte, typ, expr string, explicit []string, container any) {
	for _, is := range r.v.base.validate(typ, node, expr) {
		r.add(is)
	}
	body = r.checkBase(node, body, typ, expr, container)
	r.nested(node, typ, expr)
	scope := node
	if container != nil {
		scope = container
	}
	for _, url := range explicit {
		sd := r.v.structures[strings.SplitN(url, "|", 2)[0]]
		if sd == nil {
			r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "not-supported", Expression: []string{expr},
				Diagnostics: fmt.Sprintf("profile %s is not part of package %s", url, r.v.pkg.Name)})
			continue
		}
		r.checkProfile(sd, node, body, expr, scope)
	}
	claims, _ := field(field(node, "meta"), "profile").([]any)
	for i, c := range claims {
		url, _ := c.(string)
		url = strings.SplitN(url, "|", 2)[0]
		if contains(explicit, url) {
			continue
		}
		sd := r.v.structures[url]
		if sd == nil && url == "http://hl7.org/fhir/StructureDefinition/"+typ {
			continue // base R4 itself: checked above
		}
		if sd == nil {
			r.add(fhir.Issue{Severity: fhir.SeverityWarning, Code: "not-supported",
				Expression:  []string{fmt.Sprintf("%s.meta.profile[%d]", expr, i)},
				Diagnostics: fmt.Sprintf("profile %s is not known to this server; checked against base R4 only", url)})
			continue
		}
		r.checkProfile(sd, node, body, expr, scope)
	}
}

// nested validates the resources inside a resource on their own, by their own type.
func (r *run) nested(node any, typ, expr string) {
	each := r.nestedOne
	contained, _ := field(node, "contained").([]any)
	for i, c := range contained {
		each(c, fmt.Sprintf("%s.contained[%d]", expr, i), node)
	}
	switch typ {
	case "Bundle":
		entries, _ := field(node, "entry").([]any)
		if expr == "Bundle" && r.entriesInParallel(entries) {
			break
		}
		for i, e := range entries {
			r.entry(e, fmt.Sprintf("%s.entry[%d]", expr, i))
		}
	case "Parameters":
		var walk func(params []any, at string)
		walk = func(params []any, at string) {
			for i, p := range params {
				pat := fmt.Sprintf("%s[%d]", at, i)
				if res := field(p, "resource"); res != nil {
					each(res, pat+".resource", nil)
				}
				parts, _ := field(p, "part").([]any)
				walk(parts, pat+".part")
			}
		}
		params, _ := field(node, "parameter").([]any)
		walk(params, expr+".parameter")
	}
}

// nestedOne validates one resource inside another, by its own type, at at.
func (r *run) nestedOne(n any, at string, container any) {
	t, _ := field(n, "resourceType").(string)
	if t == "" {
		r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "required", Expression: []string{at + ".resourceType"},
			Diagnostics: "base R4: a nested resource needs a resourceType"})
		return
	}
	if !fhir.IsResourceType(t) {
		r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "not-supported", Expression: []string{at + ".resourceType"},
			Diagnostics: fmt.Sprintf("base R4: unknown resource type %q", t)})
		return
	}
	b, err := json.Marshal(n)
	if err != nil {
		return
	}
	r.resource(n, b, t, at, nil, container)
}

// entry validates a Bundle entry's resource and its response's outcome, at at.
func (r *run) entry(e any, at string) {
	if res := field(e, "resource"); res != nil {
		r.nestedOne(res, at+".resource", nil)
	}
	if oo := field(field(e, "response"), "outcome"); oo != nil {
		r.nestedOne(oo, at+".response.outcome", nil)
	}
}

// parallelEntries is the smallest top-level Bundle whose entries are validated on
// several cores: below it, starting the workers costs more than it saves.
const parallelEntries = 8

// entriesInParallel validates the entries of the Bundle being validated (the top
// level only) on all cores, each entry by a run of its own, and reports the issues in
// entry order, exactly as one run would: a 50-entry referral is validated in about
// half the time on two cores. The entries are only read (the Bundle's index of them
// is shared read-only; the verdicts of reference targets are cached per run). It
// reports false when the Bundle is validated by one run (small, a verdict run, or a
// single core).
func (r *run) entriesInParallel(entries []any) bool {
	workers := min(runtime.GOMAXPROCS(0), len(entries)/(parallelEntries/2))
	if r.verdict || r.depth > 0 || len(entries) < parallelEntries || workers < 2 {
		return false
	}
	type result struct {
		issues       []fhir.Issue
		dropped      int
		droppedError bool
	}
	results := make([]result, len(entries))
	var next atomic.Int64
	var panicked atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					panicked.Store(fmt.Sprint(p)) // raised again below, where ValidateWith recovers it
				}
			}()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(entries) {
					return
				}
				c := newRun(r.ctx, r.v, r.resolver)
				c.bundle = r.bundle
				c.entry(entries[i], fmt.Sprintf("Bundle.entry[%d]", i))
				results[i] = result{c.issues, c.dropped, c.droppedError}
			}
		}()
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p)
	}
	for _, res := range results {
		for _, is := range res.issues {
			r.add(is)
		}
		r.dropped += res.dropped
		r.droppedError = r.droppedError || res.droppedError
	}
	return true
}

func field(node any, name string) any {
	m, _ := node.(map[string]any)
	return m[name]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.SplitN(x, "|", 2)[0] == s {
			return true
		}
	}
	return false
}

// lookup resolves a reference from scope (the resource holding "#id" targets), the
// Bundle, then the resolver. ok is false when it does not resolve.
func (r *run) lookup(ref string, scope any, scopeExpr string) (target, bool) {
	if strings.HasPrefix(ref, "#") {
		contained, _ := field(scope, "contained").([]any)
		for i, c := range contained {
			if id, _ := field(c, "id").(string); id == ref[1:] {
				return target{c, fmt.Sprintf("%s.contained[%d]", scopeExpr, i)}, true
			}
		}
		return target{}, false
	}
	if t, ok := r.bundle[ref]; ok {
		return t, true
	}
	if i := strings.LastIndex(ref, "/"); i > 0 {
		if j := strings.LastIndex(ref[:i], "/"); j >= 0 {
			if t, ok := r.bundle[ref[j+1:]]; ok { // absolute URL of a Bundle entry
				return t, true
			}
		}
	}
	if r.resolver == nil {
		return target{}, false
	}
	if t, seen := r.external[ref]; seen {
		return t, t.node != nil
	}
	var t target
	if b, err := r.resolver.Resolve(r.ctx, ref); err == nil && len(b) > 0 {
		if n := decodeJSON(b); n != nil {
			t = target{n, ref}
			r.bytes[ref] = b
		}
	}
	r.external[ref] = t // misses too: ask the store once per reference
	return t, t.node != nil
}

// fhirpathResolver serves resolve() in invariants and counts what it could not find.
type fhirpathResolver struct {
	r      *run
	scope  any
	expr   string
	misses []string
}

// Resolve implements fhirpath.ReferenceResolver.
func (f *fhirpathResolver) Resolve(_ context.Context, ref string) ([]byte, error) {
	t, ok := f.r.lookup(ref, f.scope, f.expr)
	if !ok {
		f.misses = append(f.misses, ref)
		return nil, fmt.Errorf("unresolved %s", ref)
	}
	key := ref
	if strings.HasPrefix(ref, "#") { // contained: relative to its container
		key = fmt.Sprintf("%p%s", f.scope, ref)
	}
	if b, ok := f.r.bytes[key]; ok {
		return b, nil
	}
	b, err := json.Marshal(t.node)
	if err == nil {
		f.r.bytes[key] = b
	}
	return b, err
}

// jsonEqual compares two values decoded by decodeJSON (maps, slices, strings,
// booleans, json.Number), numbers by their JSON text as the JSON would, a decimal
// rewritten by asDecimal as the integer it was written as.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && strings.TrimSuffix(string(x), decimalExponent) == strings.TrimSuffix(string(y), decimalExponent)
	default:
		return a == b
	}
}
