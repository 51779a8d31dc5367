// Package search is the FHIR search engine of the gateway: it extracts index entries
// from a resource at write time (Registry.Index) and answers search queries at read
// time (Registry.ParseQuery, Registry.Execute, Registry.Match) over fhir.Tx.
//
// The parameters are the 1,375 official R4 SearchParameters (embedded, compact) plus
// any added with Registry.Add. Their FHIRPath expressions are evaluated with
// github.com/gofhir/fhirpath on the JSON exactly as stored, except the plain element
// paths, walked on the JSON directly with the same results (native.go).
package search

//go:generate go run gen_data.go -npm /tmp/npm/package

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/gofhir/fhirpath"
)

//go:embed searchparams.json.gz
var searchParamsGz []byte

// Component is one part of a composite search parameter.
type Component struct {
	// Definition is the canonical URL of the component's own SearchParameter.
	Definition string `json:"definition"`
	// Expression is evaluated on each value of the composite's expression.
	Expression string `json:"expression"`

	expr *fhirpath.Expression
	// member and direct: for "value.as(Quantity)", the concrete element valueQuantity
	// and its compiled path, used when the item has that member.
	member string
	direct *fhirpath.Expression
	// steps are the element names of a plain-path component ("code"), walked on
	// the JSON without FHIRPath (native.go); nil otherwise.
	steps []string
}

// Param is one search parameter as it applies to one resource type: Expression is
// narrowed to the branches of the official expression that concern that type.
type Param struct {
	Code       string      `json:"code"`                 // name in the query string
	Type       string      `json:"type"`                 // token, string, date, reference…
	Expression string      `json:"expression,omitempty"` // FHIRPath, narrowed to the type
	URL        string      `json:"url"`                  // canonical URL of the SearchParameter
	Base       []string    `json:"base"`                 // resource types it was published for
	Targets    []string    `json:"target,omitempty"`     // reference: the types it may point to
	MultipleOr *bool       `json:"multipleOr,omitempty"` // as published (not enforced)
	Modifiers  []string    `json:"modifier,omitempty"`   // as published
	Chains     []string    `json:"chain,omitempty"`      // as published
	Components []Component `json:"component,omitempty"`  // composite: its parts

	once sync.Once
	expr *fhirpath.Expression
	err  error
	// branches are the union branches, compiled apart so that the indexer evaluates
	// only those whose element is present; nil when a branch could not be analysed.
	branches []*branch
}

// compiled returns the compiled expression of p, compiling it on first use: a
// registry holds some 2,500 (type, parameter) pairs and most are never indexed.
func (p *Param) compiled() (*fhirpath.Expression, error) {
	p.once.Do(func() {
		if p.Expression == "" {
			return
		}
		p.expr, p.err = fhirpath.Compile(p.Expression)
		if p.err != nil {
			p.err = fmt.Errorf("search parameter %s (%s): %w", p.Code, p.URL, p.err)
			return
		}
		for i := range p.Components {
			c := &p.Components[i]
			if c.expr, p.err = fhirpath.Compile(c.Expression); p.err != nil {
				p.err = fmt.Errorf("search parameter %s component %s: %w", p.Code, c.Expression, p.err)
				return
			}
			c.member, c.direct = componentChoice(c.Expression)
			if steps, ok := relativeSteps(c.Expression); ok {
				c.steps = steps
			}
		}
		p.branches = analyse(p.Expression)
	})
	return p.expr, p.err
}

// Registry holds the search parameters per resource type. It is safe for concurrent
// use; Add may be called while searches run.
type Registry struct {
	mu     sync.RWMutex
	byType map[string]map[string]*Param // resource type → code → parameter
	common map[string]*Param            // code → parameter of Resource/DomainResource
	byURL  map[string]*Param            // canonical URL → parameter (as published)
	base   string                       // the server base URL with a trailing slash (SetBase)
	// indexCache holds, per type, the parameters Index evaluates; reset by Add.
	indexCache map[string][]*Param
	// only restricts a type to some parameters (Restrict).
	only map[string]map[string]bool
	// fhirpathOnly evaluates every expression with FHIRPath, without the native
	// walk of plain paths (native.go): the reference the native walk is tested
	// against.
	fhirpathOnly bool
}

// Restrict limits typ to the parameters named: only those are indexed, searchable
// and advertised; any other is an unknown parameter. The gateway restricts the types
// it writes at high rate itself (AuditEvent, one per access) to what their readers
// search by, because indexing every official parameter of each is the costliest
// part of the write.
func (r *Registry) Restrict(typ string, codes ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.only == nil {
		r.only = map[string]map[string]bool{}
	}
	set := map[string]bool{}
	for _, c := range codes {
		set[c] = true
	}
	r.only[typ] = set
	delete(r.indexCache, typ)
}

// NewRegistry loads the embedded R4 search parameters.
func NewRegistry() (*Registry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(searchParamsGz))
	if err != nil {
		return nil, fmt.Errorf("search parameters: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("search parameters: %w", err)
	}
	var params []*Param
	if err := json.Unmarshal(raw, &params); err != nil {
		return nil, fmt.Errorf("search parameters: %w", err)
	}
	r := &Registry{byType: map[string]map[string]*Param{}, common: map[string]*Param{},
		byURL: map[string]*Param{}, indexCache: map[string][]*Param{}}
	for _, p := range params {
		r.add(p)
	}
	return r, nil
}

// Add registers a SearchParameter resource (JSON), e.g. one of the AIT profiles. A
// parameter with the same code on the same base replaces the previous one.
func (r *Registry) Add(searchParameterJSON []byte) error {
	var p Param
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(searchParameterJSON, &head); err != nil || head.ResourceType != "SearchParameter" {
		return fmt.Errorf("not a SearchParameter resource")
	}
	if err := json.Unmarshal(searchParameterJSON, &p); err != nil {
		return fmt.Errorf("SearchParameter: %w", err)
	}
	if p.Code == "" || p.Type == "" || len(p.Base) == 0 {
		return fmt.Errorf("SearchParameter needs code, type and base")
	}
	if !knownTypes[p.Type] {
		return fmt.Errorf("SearchParameter %s: unknown type %q", p.Code, p.Type)
	}
	if p.Expression != "" {
		if _, err := fhirpath.Compile(p.Expression); err != nil {
			return fmt.Errorf("SearchParameter %s: expression: %w", p.Code, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(&p)
	r.indexCache = map[string][]*Param{}
	return nil
}

// knownTypes are the SearchParameter types of R4.
var knownTypes = map[string]bool{"number": true, "date": true, "string": true, "token": true,
	"reference": true, "composite": true, "quantity": true, "uri": true, "special": true}

// add files p under each of its base types with the expression narrowed to that type.
func (r *Registry) add(p *Param) {
	if p.URL != "" {
		r.byURL[p.URL] = p
	}
	for _, base := range p.Base {
		cp := &Param{Code: p.Code, Type: p.Type, URL: p.URL, Base: p.Base, Targets: p.Targets,
			MultipleOr: p.MultipleOr, Modifiers: p.Modifiers, Chains: p.Chains,
			Expression: narrow(p.Expression, base)}
		cp.Components = append([]Component(nil), p.Components...)
		if base == "Resource" || base == "DomainResource" {
			r.common[p.Code] = cp
			// Resource-level params of the same code may already have been
			// specialised per type: drop the cached per-type copies.
			for _, m := range r.byType {
				if q, ok := m[p.Code]; ok && (q.Base[0] == "Resource" || q.Base[0] == "DomainResource") {
					delete(m, p.Code)
				}
			}
			continue
		}
		m := r.byType[base]
		if m == nil {
			m = map[string]*Param{}
			r.byType[base] = m
		}
		m[p.Code] = cp
	}
}

// narrow keeps the union branches of expr that start at typ: the R4 expressions are
// shared between types ("AllergyIntolerance.code | Condition.code | …") and
// evaluating only the relevant branch is both faster and clearer. An expression with
// no branch for typ is kept whole.
func narrow(expr, typ string) string {
	if expr == "" {
		return ""
	}
	branches := splitUnion(expr)
	var keep []string
	for _, b := range branches {
		s := strings.TrimLeft(b, "( ")
		if strings.HasPrefix(s, typ+".") || s == typ || strings.HasPrefix(s, typ+" ") || strings.HasPrefix(s, typ+")") {
			keep = append(keep, b)
		}
	}
	if len(keep) == 0 {
		return expr
	}
	return strings.Join(keep, " | ")
}

// splitUnion splits expr on the '|' operators at parenthesis depth 0, outside string
// literals.
func splitUnion(expr string) []string {
	var out []string
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '\'' {
				inStr = false
			}
		case c == '\'':
			inStr = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(expr[start:]))
}

// forType returns the Resource-level parameter p specialised for typ ("Resource.id"
// becomes "Patient.id"), caching it.
func (r *Registry) forType(typ string, p *Param) *Param {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byType[typ]
	if m == nil {
		m = map[string]*Param{}
		r.byType[typ] = m
	}
	if q, ok := m[p.Code]; ok {
		return q
	}
	cp := &Param{Code: p.Code, Type: p.Type, URL: p.URL, Base: p.Base, Targets: p.Targets,
		MultipleOr: p.MultipleOr, Modifiers: p.Modifiers, Chains: p.Chains}
	cp.Expression = p.Expression
	for _, pre := range []string{"Resource.", "DomainResource."} {
		if strings.HasPrefix(cp.Expression, pre) {
			cp.Expression = typ + "." + strings.TrimPrefix(cp.Expression, pre)
		}
	}
	m[p.Code] = cp
	return cp
}

// Lookup returns the parameter code of resource type typ, or nil.
func (r *Registry) Lookup(typ, code string) *Param {
	r.mu.RLock()
	p := r.byType[typ][code]
	c := r.common[code]
	only, restricted := r.only[typ]
	r.mu.RUnlock()
	if restricted && !only[code] {
		return nil
	}
	if p != nil {
		return p
	}
	if c != nil {
		return r.forType(typ, c)
	}
	return nil
}

// Params returns every parameter of typ, the Resource-level ones (_id,
// _lastUpdated, _profile, _tag, _security, _source…) included, sorted by code.
func (r *Registry) Params(typ string) []*Param {
	r.mu.RLock()
	codes := map[string]bool{}
	for c := range r.byType[typ] {
		codes[c] = true
	}
	for c := range r.common {
		codes[c] = true
	}
	r.mu.RUnlock()
	out := make([]*Param, 0, len(codes))
	for c := range codes {
		if p := r.Lookup(typ, c); p != nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// byCanonical returns the parameter published at url (composite components).
func (r *Registry) byCanonical(url string) *Param {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byURL[url]
}

// typeResolver answers resolve() with a stub of the referenced type only, so that
// "where(resolve() is Patient)" works at index time without reading the store.
type typeResolver struct{}

// Resolve returns {"resourceType":T} for a reference "T/id", ".../T/id" or
// "T/id/_history/v"; an error when the type cannot be told.
func (typeResolver) Resolve(_ context.Context, reference string) ([]byte, error) {
	typ := refType(reference)
	if typ == "" {
		return nil, fmt.Errorf("unresolvable reference")
	}
	return []byte(`{"resourceType":"` + typ + `"}`), nil
}

// refType returns the resource type named by a literal reference, or "".
func refType(ref string) string {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return ""
	}
	t := parts[len(parts)-2]
	if t == "" || t[0] < 'A' || t[0] > 'Z' {
		return ""
	}
	return t
}

// indexed returns the parameters of typ that have an expression to index, cached per
// type until the next Add.
func (r *Registry) indexed(typ string) []*Param {
	r.mu.RLock()
	list, ok := r.indexCache[typ]
	r.mu.RUnlock()
	if ok {
		return list
	}
	for _, p := range r.Params(typ) {
		if p.Expression != "" && p.Type != "special" {
			list = append(list, p)
		}
	}
	r.mu.Lock()
	r.indexCache[typ] = list
	r.mu.Unlock()
	return list
}
