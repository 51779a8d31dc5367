package search

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Query is a parsed search of one resource type: its criteria (ANDed clauses, each an
// OR of values) and its result controls.
type Query struct {
	Type    string
	Clauses []*Clause
	// Sort keys in order of precedence; empty means the default order (by id).
	Sort []SortKey
	// Count is _count, or -1 when absent.
	Count      int
	Include    []Include
	RevInclude []Include
	// MaxIncluded bounds the resources _include/_revinclude may bring (0: no bound);
	// past it Execute stops with a 422 rather than read them all.
	MaxIncluded int
	Summary     string   // _summary: "", count, true, text, data, false
	Total       string   // _total: "", none, estimate, accurate
	Elements    []string // _elements
	Unsupported []string // parameters ignored (lenient mode), reported as warnings
	// Confine, when set, limits chains, _has and includes to what the requester may
	// see (see Confiner); nil for the server's own searches.
	Confine Confiner
}

// Clause is one search parameter occurrence: a resource matches when any of Values
// matches (OR); clauses are ANDed.
type Clause struct {
	// Name is the parameter as written (with modifier and chain), for messages.
	Name     string
	Param    *Param
	Modifier string
	Values   []Value
	// Missing is set for :missing (true: the parameter has no value).
	Missing *bool
	// Chain is set for chained parameters (subject:Patient.name=x).
	Chain []ChainTarget
	// Has is set for reverse chaining (_has:Observation:patient:code=x).
	Has *HasClause
}

// Value is one OR-ed value of a clause and the index ranges it matches.
type Value struct {
	Raw   string
	scans []scan
}

// ChainTarget is the inner search of a chained parameter on one target type.
type ChainTarget struct {
	Type   string
	Clause *Clause
}

// HasClause is a reverse chain: resources of Type whose Param references the
// searched resource and that match Clause.
type HasClause struct {
	Type   string
	Param  *Param
	Clause *Clause
}

// SortKey is one _sort key; Param is nil for _id.
type SortKey struct {
	Code       string
	Param      *Param
	Descending bool
}

// Include is one _include or _revinclude: Type:Param[:Target]. Param nil means "*".
type Include struct {
	Type    string
	Param   *Param
	Target  string
	Iterate bool
}

// SetBase sets the server's own base URL (e.g. "https://h.example/fhir"): reference
// search values under it are treated as relative references.
func (r *Registry) SetBase(base string) {
	r.mu.Lock()
	r.base = strings.TrimRight(base, "/") + "/"
	r.mu.Unlock()
}

// resultParams are the result controls, handled by ParseQuery itself; _format and
// _pretty belong to the HTTP layer and are ignored here.
var resultParams = map[string]bool{"_count": true, "_sort": true, "_include": true,
	"_revinclude": true, "_summary": true, "_total": true, "_elements": true,
	"_format": true, "_pretty": true}

// ParseQuery parses the search parameters q of resource type typ. Unknown parameters
// and unsupported modifiers are ignored and returned as warning issues, or, with
// strict (Prefer: handling=strict), refused with a 400. A malformed value is always a
// 400 naming the parameter in expression.
func (r *Registry) ParseQuery(typ string, q url.Values, strict bool) (*Query, []fhir.Issue, *fhir.Error) {
	if !fhir.IsResourceType(typ) {
		return nil, nil, fhir.Errorf(http.StatusBadRequest, "not-supported", "", "unknown resource type %q", typ)
	}
	p := &parser{r: r, typ: typ, strict: strict, now: time.Now()}
	query := &Query{Type: typ, Count: -1}
	names := make([]string, 0, len(q))
	for n := range q {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, raw := range q[name] {
			base, mod, _ := strings.Cut(name, ":")
			if resultParams[base] {
				if err := p.control(query, base, mod, raw); err != nil {
					return nil, nil, err
				}
				continue
			}
			c, err := p.clause(typ, name, raw, true)
			if err != nil {
				return nil, nil, err
			}
			if c != nil {
				query.Clauses = append(query.Clauses, c)
			} else {
				query.Unsupported = append(query.Unsupported, name)
			}
		}
	}
	if p.strict && len(p.issues) > 0 {
		for i := range p.issues {
			p.issues[i].Severity = fhir.SeverityError
		}
		return nil, nil, fhir.Issues(http.StatusBadRequest, p.issues...)
	}
	return query, p.issues, nil
}

// parser carries the state of one ParseQuery.
type parser struct {
	r      *Registry
	typ    string
	strict bool
	now    time.Time
	issues []fhir.Issue
}

// ignore records an unknown or unsupported parameter (a warning unless strict).
func (p *parser) ignore(name, code, format string, args ...any) {
	e := fhir.Errorf(http.StatusBadRequest, code, name, format, args...)
	is := e.Outcome.Issue[0]
	is.Severity = fhir.SeverityWarning
	p.issues = append(p.issues, is)
}

// bad is a malformed value: always a 400.
func bad(name, format string, args ...any) *fhir.Error {
	return fhir.Errorf(http.StatusBadRequest, "invalid", name, format, args...)
}

// supportedModifiers lists, per parameter type, the modifiers this engine implements
// (:missing is accepted on every type; reference also takes :Type).
var supportedModifiers = map[string]map[string]bool{
	"token":     {"not": true, "text": true},
	"string":    {"exact": true, "contains": true},
	"reference": {"identifier": true},
	"uri":       {"below": true, "above": true},
	"date":      {}, "number": {}, "quantity": {}, "composite": {},
}

// clause parses one parameter occurrence name=raw on typ. It returns nil (with an
// issue recorded) for an unknown parameter or unsupported modifier. allowChain is
// false inside a chain (one level only).
func (p *parser) clause(typ, name, raw string, allowChain bool) (*Clause, *fhir.Error) {
	if strings.HasPrefix(name, "_has:") {
		if !allowChain {
			p.ignore(name, "not-supported", "_has inside a chain is not supported")
			return nil, nil
		}
		return p.has(typ, name, raw)
	}
	head, rest, chained := strings.Cut(name, ".")
	code, mod, _ := strings.Cut(head, ":")
	param := p.r.Lookup(typ, code)
	if param == nil || (param.Expression == "" && param.Type != "composite") || param.Type == "special" {
		p.ignore(name, "not-supported", "unknown or unsupported search parameter %q on %s", code, typ)
		return nil, nil
	}
	c := &Clause{Name: name, Param: param, Modifier: mod}
	if chained {
		if !allowChain || param.Type != "reference" {
			p.ignore(name, "not-supported", "chaining %q: only one level on a reference parameter is supported", name)
			return nil, nil
		}
		return p.chain(c, rest, raw)
	}
	if mod == "missing" {
		switch raw {
		case "true", "false":
			b := raw == "true"
			c.Missing = &b
			return c, nil
		}
		return nil, bad(name, "%s: :missing takes true or false, not %q", name, raw)
	}
	if mod != "" && !supportedModifiers[param.Type][mod] {
		if !(param.Type == "reference" && fhir.IsResourceType(mod)) {
			p.ignore(name, "not-supported", "modifier :%s is not supported on %s parameter %q", mod, param.Type, code)
			return nil, nil
		}
	}
	for _, v := range splitEsc(raw, ',') {
		if v == "" {
			continue
		}
		scans, err := p.scans(name, param, mod, v)
		if err != nil {
			return nil, err
		}
		c.Values = append(c.Values, Value{Raw: v, scans: scans})
	}
	if len(c.Values) == 0 {
		return nil, bad(name, "%s: empty value", name)
	}
	return c, nil
}

// scans turns one value into index ranges according to the parameter type.
func (p *parser) scans(name string, param *Param, mod, v string) ([]scan, *fhir.Error) {
	switch param.Type {
	case "token":
		return tokenScans(v, mod), nil
	case "string":
		return stringScans(v, mod), nil
	case "uri":
		return uriScans(v, mod), nil
	case "reference":
		return p.referenceScans(name, v, mod)
	case "date":
		op, rest, ok := splitPrefix(v)
		if !ok {
			return nil, bad(name, "%s: unknown prefix in %q (eq ne gt lt ge le sa eb ap)", name, v)
		}
		lo, hi, ok := parseFHIRTime(rest)
		if !ok {
			return nil, bad(name, "%s: %q is not a FHIR date, dateTime or instant", name, rest)
		}
		return dateScans(op, lo, hi, p.now), nil
	case "number":
		op, rest, ok := splitPrefix(v)
		n, half, okN := parseNumber(rest)
		if !ok || !okN {
			return nil, bad(name, "%s: %q is not a [prefix]number", name, v)
		}
		return numberScans([]byte{tagNumber}, op, n, half), nil
	case "quantity":
		return quantityScans(name, v)
	case "composite":
		return p.compositeScans(name, param, v)
	}
	return nil, bad(name, "%s: parameter type %s is not searchable", name, param.Type)
}

// quantityScans parses [prefix]number[|system|code].
func quantityScans(name, v string) ([]scan, *fhir.Error) {
	parts := splitEsc(v, '|')
	op, rest, ok := splitPrefix(parts[0])
	n, half, okN := parseNumber(rest)
	if !ok || !okN || len(parts) == 2 || len(parts) > 3 {
		return nil, bad(name, "%s: %q is not [prefix]number[|system|code]", name, v)
	}
	pre := []byte{tagQty}
	if len(parts) == 3 {
		sys, code := unescape(parts[1]), unescape(parts[2])
		switch {
		case code == "" && sys != "":
			return nil, bad(name, "%s: a quantity system needs a code", name)
		case sys != "":
			pre = key(tagQtySysCode, sys, code)
		case code != "":
			pre = key(tagQtyCode, code)
		}
	}
	return numberScans(pre, op, n, half), nil
}

// referenceScans parses id, Type/id, an absolute URL (relative when under the
// server base), or with :Type an id of that type; :identifier takes a token.
func (p *parser) referenceScans(name, v, mod string) ([]scan, *fhir.Error) {
	v = unescape(v)
	if mod == "identifier" {
		sys, val, ok := strings.Cut(v, "|")
		if !ok {
			return nil, bad(name, "%s: :identifier takes system|value", name)
		}
		return []scan{exactScan(key(tagRefIdent, sys, val))}, nil
	}
	p.r.mu.RLock()
	base := p.r.base
	p.r.mu.RUnlock()
	if base != "/" && base != "" && strings.HasPrefix(v, base) {
		v = strings.TrimPrefix(v, base)
	}
	if i := strings.Index(v, "/_history/"); i >= 0 && !strings.Contains(v, "://") {
		v = v[:i]
	}
	if fhir.IsResourceType(mod) {
		if !strings.Contains(v, "/") {
			v = mod + "/" + v
		} else if !strings.HasPrefix(v, mod+"/") {
			return nil, bad(name, "%s: %q is not a reference to a %s", name, v, mod)
		}
	}
	if strings.Contains(v, "/") || strings.Contains(v, ":") {
		return []scan{exactScan(key(tagRef, v))}, nil
	}
	return []scan{exactScan(key(tagRefID, v))}, nil
}

// compositeScans parses first$second of a two-component composite parameter.
func (p *parser) compositeScans(name string, param *Param, v string) ([]scan, *fhir.Error) {
	parts := splitEsc(v, '$')
	if len(param.Components) != 2 || len(parts) != 2 {
		return nil, bad(name, "%s: expected two components separated by $, got %q", name, v)
	}
	first, second := p.r.byCanonical(param.Components[0].Definition), p.r.byCanonical(param.Components[1].Definition)
	if first == nil || second == nil || first.Type != "token" {
		return nil, bad(name, "%s: composite parameter not supported", name)
	}
	outer := tokenScans(parts[0], "")
	inner, err := p.scans(name, second, "", parts[1])
	if err != nil {
		return nil, err
	}
	var out []scan
	for _, o := range outer {
		pre := append([]byte{tagComposite}, o.from...)
		for _, in := range inner {
			out = append(out, in.within(pre))
		}
	}
	return out, nil
}

// chain parses the inner part of a chained parameter (c is the reference parameter).
func (p *parser) chain(c *Clause, inner, raw string) (*Clause, *fhir.Error) {
	targets := c.Param.Targets
	if c.Modifier != "" {
		if !fhir.IsResourceType(c.Modifier) {
			p.ignore(c.Name, "not-supported", "modifier :%s is not a resource type", c.Modifier)
			return nil, nil
		}
		targets = []string{c.Modifier}
	}
	innerCode, _, _ := strings.Cut(inner, ":")
	for _, t := range targets {
		if p.r.Lookup(t, innerCode) == nil {
			continue // a chain applies to the targets that have the parameter
		}
		ic, err := p.clause(t, inner, raw, false)
		if err != nil {
			return nil, err
		}
		if ic == nil {
			return nil, nil
		}
		c.Chain = append(c.Chain, ChainTarget{Type: t, Clause: ic})
	}
	if len(c.Chain) == 0 {
		p.ignore(c.Name, "not-supported", "no target type of %q has a search parameter %q", c.Param.Code, innerCode)
		return nil, nil
	}
	return c, nil
}

// has parses _has:Type:param:inner=raw.
func (p *parser) has(typ, name, raw string) (*Clause, *fhir.Error) {
	parts := strings.SplitN(name, ":", 4)
	if len(parts) != 4 || !fhir.IsResourceType(parts[1]) {
		return nil, bad(name, "%s: expected _has:Type:reference:parameter", name)
	}
	ref := p.r.Lookup(parts[1], parts[2])
	if ref == nil || ref.Type != "reference" {
		p.ignore(name, "not-supported", "%s has no reference parameter %q", parts[1], parts[2])
		return nil, nil
	}
	ic, err := p.clause(parts[1], parts[3], raw, false)
	if err != nil || ic == nil {
		return nil, err
	}
	return &Clause{Name: name, Param: ref, Has: &HasClause{Type: parts[1], Param: ref, Clause: ic}}, nil
}

// control parses a result parameter into query.
func (p *parser) control(query *Query, name, mod, raw string) *fhir.Error {
	switch name {
	case "_count":
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return bad(name, "_count must be a non-negative integer, not %q", raw)
		}
		query.Count = n
	case "_summary":
		switch raw {
		case "count", "true", "text", "data", "false":
			query.Summary = raw
		default:
			return bad(name, "_summary must be one of true, text, data, count, false, not %q", raw)
		}
	case "_total":
		switch raw {
		case "none", "estimate", "accurate":
			query.Total = raw
		default:
			return bad(name, "_total must be one of none, estimate, accurate, not %q", raw)
		}
	case "_elements":
		for _, e := range strings.Split(raw, ",") {
			if e = strings.TrimSpace(e); e != "" {
				query.Elements = append(query.Elements, e)
			}
		}
	case "_sort":
		for _, k := range strings.Split(raw, ",") {
			desc := strings.HasPrefix(k, "-")
			code := strings.TrimPrefix(k, "-")
			if code == "" {
				return bad(name, "_sort: empty key in %q", raw)
			}
			sp := p.r.Lookup(p.typ, code)
			if sp == nil || sp.Expression == "" || sp.Type == "composite" || sp.Type == "special" {
				p.ignore(name, "not-supported", "_sort: unknown search parameter %q on %s", code, p.typ)
				continue
			}
			if code == "_id" {
				sp = nil
			}
			query.Sort = append(query.Sort, SortKey{Code: code, Param: sp, Descending: desc})
		}
	case "_include", "_revinclude":
		inc, ok, err := p.include(name, mod, raw)
		if err != nil {
			return err
		}
		if ok && name == "_include" {
			query.Include = append(query.Include, inc)
		} else if ok {
			query.RevInclude = append(query.RevInclude, inc)
		}
	}
	// _format and _pretty: rendering, handled by the HTTP layer.
	return nil
}

// include parses Type:param[:target] or "*" (with :iterate or :recurse).
func (p *parser) include(name, mod, raw string) (Include, bool, *fhir.Error) {
	inc := Include{Iterate: mod == "iterate" || mod == "recurse"}
	if mod != "" && !inc.Iterate {
		p.ignore(name+":"+mod, "not-supported", "%s: modifier :%s is not supported", name, mod)
		return inc, false, nil
	}
	if raw == "*" {
		if name == "_revinclude" { // which type would refer back is open-ended
			p.ignore(name, "not-supported", "_revinclude=* is not supported; name Type:parameter")
			return inc, false, nil
		}
		inc.Type = p.typ
		return inc, true, nil
	}
	parts := strings.Split(raw, ":")
	if len(parts) < 2 || len(parts) > 3 || !fhir.IsResourceType(parts[0]) {
		return inc, false, bad(name, "%s must be Type:parameter[:targetType], not %q", name, raw)
	}
	inc.Type = parts[0]
	if parts[1] != "*" {
		inc.Param = p.r.Lookup(parts[0], parts[1])
		if inc.Param == nil || inc.Param.Type != "reference" {
			p.ignore(name, "not-supported", "%s: %s has no reference parameter %q", name, parts[0], parts[1])
			return inc, false, nil
		}
	}
	if len(parts) == 3 {
		if !fhir.IsResourceType(parts[2]) {
			return inc, false, bad(name, "%s: unknown target type %q", name, parts[2])
		}
		inc.Target = parts[2]
	}
	return inc, true, nil
}
