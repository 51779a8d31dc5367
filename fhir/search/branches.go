package search

import (
	"regexp"
	"strings"
	"sync"

	"github.com/buger/jsonparser"
	"github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/eval"
	"github.com/gofhir/fhirpath/types"
)

// Why branches: without a FHIR model, gofhir looks an element that is absent from the
// JSON up under some fifty choice-type suffixes (valueBoolean, valueInteger…), each a
// full scan of the document. Most parameters of a resource are absent, and choice
// elements ("Observation.value as Quantity") are searched suffix by suffix, so plain
// evaluation made indexing cost milliseconds. Each union branch is therefore
// analysed once: the indexer evaluates it only when its top-level element is present,
// and evaluates a choice branch on its concrete member (valueQuantity) directly.

// branch is one union branch of a parameter expression.
type branch struct {
	// root is the top-level element the branch starts from ("code" in
	// "Observation.code.coding"); "" when the branch starts otherwise (always run).
	root string
	// path is the chain of plain elements from root ("address", "state"): a branch
	// whose path is absent from the resource yields nothing and is not run.
	path []string
	// member is set for a typed choice "(T.value as Quantity)": the branch yields
	// only when the resource has valueQuantity, and expr reads it directly.
	member string
	typ    string // the resource type prefix
	text   string // the branch source, for the choice rewrites of plain branches
	expr   *fhirpath.Expression
	// steps, when native, are the element names expr navigates after the type
	// ("Patient.name.family" → name, family; "(T.value as Quantity).x" → valueQuantity,
	// x): the branch is a plain path, walked on the JSON without FHIRPath (native.go).
	steps  []string
	native bool
	// typed is set for "(T.a.b as X)": root and path only prune it, it is always
	// evaluated as written.
	typed bool

	variants sync.Map // concrete member → *fhirpath.Expression (plain branch on a choice)
}

var (
	// plainBranch: "T.elem…" or "(T.elem…".
	plainBranch = regexp.MustCompile(`^\(*([A-Z][A-Za-z]*)\.([a-z][A-Za-z0-9]*)\b`)
	// asBranch: "(T.elem as X)rest", "T.elem.as(X)rest" or "T.elem as X".
	asBranch = []*regexp.Regexp{
		regexp.MustCompile(`^\(([A-Z][A-Za-z]*)\.([a-z][A-Za-z0-9]*) as ([A-Za-z]+)\)((?:\.[^|]*)?)$`),
		regexp.MustCompile(`^([A-Z][A-Za-z]*)\.([a-z][A-Za-z0-9]*)\.as\(([A-Za-z]+)\)((?:\.[^|]*)?)$`),
		regexp.MustCompile(`^([A-Z][A-Za-z]*)\.([a-z][A-Za-z0-9]*) as ([A-Za-z]+)()$`),
	}
	// typedPath: "(T.a.b as X)", a typed choice below the top level: it yields
	// nothing when its path is absent, and is pruned as such.
	typedPath = regexp.MustCompile(`^\(([A-Z][A-Za-z]*)((?:\.[a-z][A-Za-z0-9]*){2,}) as [A-Za-z]+\)$`)
	// componentAs: a composite component "value.as(Quantity)".
	componentAs = regexp.MustCompile(`^([a-z][A-Za-z0-9]*)\.as\(([A-Za-z]+)\)$`)
)

// upperFirst turns a FHIR type name into its choice suffix (dateTime → DateTime).
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// analyse compiles the branches of expr, or returns nil when one cannot be analysed
// or compiled (the whole expression is then evaluated).
func analyse(expr string) []*branch {
	var out []*branch
	for _, text := range splitUnion(expr) {
		b := &branch{text: text}
		var err error
		matched := false
		for _, re := range asBranch {
			if m := re.FindStringSubmatch(text); m != nil {
				b.typ, b.member = m[1], m[2]+upperFirst(m[3])
				b.expr, err = fhirpath.Compile(m[1] + "." + b.member + m[4])
				if _, rest, ok := plainSteps(m[1] + m[4]); ok {
					b.steps, b.native = append([]string{b.member}, rest...), true
				}
				matched = true
				break
			}
		}
		if !matched {
			if m := plainBranch.FindStringSubmatch(text); m != nil && isPath(text) {
				b.typ, b.root = m[1], m[2]
				b.path = elementPath(strings.TrimLeft(text, "(")[len(m[1]):])
			}
			if m := typedPath.FindStringSubmatch(text); m != nil {
				b.typ, b.path, b.typed = m[1], elementPath(m[2]), true
				b.root = b.path[0]
			}
			if typ, steps, ok := plainSteps(text); ok && (b.typ == "" || b.typ == typ) {
				b.typ, b.steps, b.native = typ, steps, true
			}
			b.expr, err = fhirpath.Compile(text)
		}
		if err != nil {
			return nil
		}
		out = append(out, b)
	}
	return out
}

// componentChoice returns the concrete member and its compiled path for a component
// "value.as(Quantity)"; "" and nil otherwise.
func componentChoice(expr string) (string, *fhirpath.Expression) {
	m := componentAs.FindStringSubmatch(expr)
	if m == nil {
		return "", nil
	}
	member := m[1] + upperFirst(m[2])
	e, err := fhirpath.Compile(member)
	if err != nil {
		return "", nil
	}
	return member, e
}

// pathOnly is a navigation with optional type filters, once where() clauses are cut.
var pathOnly = regexp.MustCompile(`^[A-Z][A-Za-z]*(\.[A-Za-z][A-Za-z0-9]*|\.ofType\([A-Za-z]+\)|\.as\([A-Za-z]+\))*$`)

// isPath reports whether branch only navigates and filters, so that it yields
// nothing when its path is absent. "Patient.deceased.exists() and …" is not: it yields
// false on a resource without deceased.
func isPath(branch string) bool {
	s := strings.TrimSpace(branch)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.HasPrefix(s[i:], ".where(") {
			depth := 0
			j := i + len(".where")
			for ; j < len(s); j++ {
				if s[j] == '(' {
					depth++
				} else if s[j] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return pathOnly.MatchString(b.String())
}

// elementPath reads ".a.b.c" up to the first function call, operator or end.
func elementPath(s string) []string {
	var path []string
	for len(s) > 1 && s[0] == '.' {
		j := 1
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == 1 || (j < len(s) && s[j] == '(') {
			break
		}
		path = append(path, s[1:j])
		s = s[j:]
	}
	return path
}

// pathExists reports whether some value lies at path in data, through arrays; a
// missing element that may be a choice (valueQuantity for value) or that only has a
// primitive extension counts as present, to stay on the safe side.
func pathExists(data []byte, path []string) bool {
	if len(path) == 0 {
		return true
	}
	v, t, _, err := jsonparser.Get(data, path[0])
	if err != nil {
		found := false
		jsonparser.ObjectEach(data, func(k, _ []byte, _ jsonparser.ValueType, _ int) error {
			n := len(path[0])
			if len(k) > n && string(k[:n]) == path[0] && k[n] >= 'A' && k[n] <= 'Z' || string(k) == "_"+path[0] {
				found = true
			}
			return nil
		})
		return found
	}
	switch t {
	case jsonparser.Array:
		found := false
		jsonparser.ArrayEach(v, func(e []byte, et jsonparser.ValueType, _ int, _ error) {
			if !found && (et != jsonparser.Object || pathExists(e, path[1:])) {
				found = et == jsonparser.Object || len(path) == 1
			}
		})
		return found
	case jsonparser.Object:
		return pathExists(v, path[1:])
	case jsonparser.Null:
		return false
	}
	return len(path) == 1
}

// members is the set of top-level members of a JSON object, with the object and
// its resourceType. A resource has a few dozen members at most: a list scanned in
// order costs less than a map of fresh strings.
type members struct {
	list []member
	body []byte
	typ  string // resourceType when it is a string, as the engine reads it
}

// member is one top-level member's name and raw value, as jsonparser returns them.
type member struct {
	name []byte
	raw  []byte
	t    jsonparser.ValueType
}

// topLevel lists the members of body in one pass.
func topLevel(body []byte) members {
	m := members{list: make([]member, 0, 16), body: body}
	jsonparser.ObjectEach(body, func(k, v []byte, t jsonparser.ValueType, _ int) error {
		m.list = append(m.list, member{name: k, raw: v, t: t})
		if m.typ == "" && string(k) == "resourceType" && t == jsonparser.String {
			m.typ, _ = jsonparser.ParseString(v)
		}
		return nil
	})
	return m
}

// get returns the first member named e, as jsonparser.Get finds it.
func (m members) get(e string) (member, bool) {
	for _, x := range m.list {
		if string(x.name) == e {
			return x, true
		}
	}
	return member{}, false
}

// has reports whether element e or its primitive extension _e is present.
func (m members) has(e string) bool {
	for _, x := range m.list {
		if n := x.name; string(n) == e || len(n) == len(e)+1 && n[0] == '_' && string(n[1:]) == e {
			return true
		}
	}
	return false
}

// choice returns the first member that carries choice element e (valueQuantity
// for value), or "".
func (m members) choice(e string) string {
	for _, x := range m.list {
		if k := x.name; len(k) > len(e) && string(k[:len(e)]) == e && k[len(e)] >= 'A' && k[len(e)] <= 'Z' {
			return string(k)
		}
	}
	return ""
}

// lazyContext is the FHIRPath context of a document, made on first use: with the
// native walk, most documents need none.
type lazyContext struct {
	body []byte
	ctx  *eval.Context
	root []byte // the document as the engine's root value holds it (rootData)
}

// rootData returns the document's JSON object as the engine's root value holds it
// (jsonparser.Get of the body), ok false when the body is not an object.
func (l *lazyContext) rootData() ([]byte, bool) {
	if l.root == nil {
		data, dt, _, err := jsonparser.Get(l.body)
		if err != nil || dt != jsonparser.Object {
			return nil, false
		}
		l.root = data
	}
	return l.root, true
}

// get returns the context, making it once.
func (l *lazyContext) get() *eval.Context {
	if l.ctx == nil {
		l.ctx = newEvalContext(l.body)
	}
	return l.ctx
}

// evaluate runs the parameter's expression on the resource, branch by branch when
// the branches could be analysed; with native, plain-path branches are walked on
// the JSON (native.go) instead of evaluated with FHIRPath.
func (p *Param) evaluate(lc *lazyContext, whole *fhirpath.Expression, present members, native bool) (types.Collection, error) {
	if p.branches == nil {
		return whole.EvaluateWithContext(lc.get())
	}
	var out types.Collection
	for _, b := range p.branches {
		expr, steps, walkable := b.expr, b.steps, native && b.native
		switch {
		case b.member != "":
			if !present.has(b.member) {
				continue
			}
		case b.root != "" && !present.has(b.root):
			c := present.choice(b.root)
			if c == "" {
				continue
			}
			if b.typed {
				break // the engine looks the choice up itself
			}
			if expr = b.variant(c); expr == nil {
				expr, walkable = b.expr, false
			} else if walkable {
				steps = append([]string{c}, b.steps[1:]...)
			}
		}
		if walkable {
			// A walk that answers finds values only where pathExists does: the
			// pruning below need not be paid first.
			if vals, ok := walkRoot(lc, present, b.typ, steps); ok {
				out = append(out, vals...)
				continue
			}
		}
		if b.root != "" && present.has(b.root) && len(b.path) > 1 && !pathExists(present.body, b.path) {
			continue
		}
		vals, err := expr.EvaluateWithContext(lc.get())
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, nil
}

// variant returns the branch rewritten to read the concrete choice member
// ("Observation.effective" → "Observation.effectiveDateTime"), compiled once.
func (b *branch) variant(member string) *fhirpath.Expression {
	if e, ok := b.variants.Load(member); ok {
		return e.(*fhirpath.Expression)
	}
	from := b.typ + "." + b.root
	i := strings.Index(b.text, from)
	if i < 0 {
		return nil
	}
	e, err := fhirpath.Compile(b.text[:i] + b.typ + "." + member + b.text[i+len(from):])
	if err != nil {
		return nil
	}
	b.variants.Store(member, e)
	return e
}

// evaluate runs a composite component on one item; with native, a plain-path
// component is walked on the item's JSON.
func (c *Component) evaluate(lc *lazyContext, present members, native bool) (types.Collection, error) {
	expr, steps := c.expr, c.steps
	if c.direct != nil {
		if !present.has(c.member) {
			return nil, nil
		}
		expr, steps = c.direct, []string{c.member}
	}
	if native && steps != nil {
		if vals, ok := walkItem(present, steps); ok {
			return vals, nil
		}
	}
	return expr.EvaluateWithContext(lc.get())
}
