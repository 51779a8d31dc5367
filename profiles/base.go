package profiles

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/aitgw/aitgw/fhir"
	"github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/types"
)

// baseCheck is the walk of one resource against base R4 beyond the JSON schema:
// required primitives, primitive extensions' shape, base64Binary content, narrative,
// bindings and the invariants of each element and data type.
type baseCheck struct {
	r        *run
	m        *baseModel
	root     []byte // the resource's JSON, for %resource
	rootColl types.Collection
	// container is the JSON of the resource holding a contained one (%rootResource)
	container []byte
	ctx       context.Context // the validation's context, with its time bound
	opts      []fhirpath.EvalOption
	// rewrote: a decimal written as a JSON integer was rewritten (asDecimal), so the
	// resource's JSON given as root must be re-marshalled.
	rewrote bool
}

// ucum is %ucum of the R4 invariants.
var ucum = types.Collection{types.NewString("http://unitsofmeasure.org")}

// baseTimeBound bounds the invariants of one resource: a hostile document cannot
// hold a worker.
const baseTimeBound = 5 * time.Second

// checkBase walks the resource node of type typ at expr. container is the resource
// holding it when it is contained (%rootResource of the invariants), else nil.
//
// It returns body, or the resource re-marshalled when the walk rewrote decimals
// written as JSON integers (see asDecimal): invariants read that JSON.
func (r *run) checkBase(node any, body []byte, typ, expr string, container any) []byte {
	m, err := loadBase()
	if err != nil {
		r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "exception", Expression: []string{expr},
			Diagnostics: "base R4: the base model could not be loaded"})
		return body
	}
	t := m.types[typ]
	if t == nil {
		return body // the schema already refused the type
	}
	r.checkShape(node, expr, false)
	ctx, cancel := context.WithTimeout(r.ctx, baseTimeBound)
	defer cancel()
	c := &baseCheck{r: r, m: m, root: body, ctx: ctx}
	if container != nil {
		c.container, _ = json.Marshal(container)
	}
	c.walk(node, body, t, typ, expr)
	if typ == "Bundle" {
		r.checkBundle(node, expr)
	}
	if c.rewrote {
		if b, err := json.Marshal(node); err == nil {
			return b
		}
	}
	return body
}

// walk checks the object val, an instance of the element path of type t, at expr.
// raw is its JSON when the caller has it (nil: marshalled when an invariant needs it).
func (c *baseCheck) walk(val any, raw []byte, t *baseType, path, expr string) {
	m, ok := val.(map[string]any)
	if !ok {
		return
	}
	// children first: their decimals are rewritten (asDecimal) before the element's
	// own invariants read them
	rewrote := c.rewrote
	c.rewrote = false
	for _, kid := range t.kids[path] {
		c.child(m, t, kid, expr)
	}
	if c.rewrote {
		raw = nil // the caller's JSON no longer matches the tree
	}
	c.rewrote = c.rewrote || rewrote
	if e := t.elems[path]; e != nil && len(e.invs) > 0 {
		c.invariants(e.invs, val, raw, path, expr)
	}
}

// child checks the values of one child element kid in the object m.
func (c *baseCheck) child(m map[string]any, t *baseType, kid *baseElem, expr string) {
	var names []string
	if kid.choice {
		for k := range m {
			if strings.HasPrefix(k, kid.name) && len(k) > len(kid.name) && unicode.IsUpper(rune(k[len(kid.name)])) {
				names = append(names, k)
			}
		}
	} else {
		_, has := m[kid.name]
		_, hasExt := m["_"+kid.name]
		if has || hasExt {
			names = []string{kid.name}
		}
	}
	if len(names) == 0 {
		// JSON schema requires complex elements of min 1; primitives are ours
		if kid.min >= 1 && allPrimitive(kid.types) {
			if _, ext := m["_"+kid.name]; !ext {
				c.r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "required", Expression: []string{expr + "." + kid.name},
					Diagnostics: fmt.Sprintf("base R4: %s is required (minimum cardinality %d), as a value or an extension", kid.path, kid.min)})
			}
		}
		return
	}
	for _, name := range names {
		typ := ""
		if kid.choice {
			suffix := name[len(kid.name):]
			for _, tc := range kid.types {
				if strings.EqualFold(tc, suffix) {
					typ = tc
				}
			}
			if typ == "" {
				continue // the schema refuses unknown choice types
			}
		} else if len(kid.types) > 0 {
			typ = kid.types[0]
		}
		v, present := m[name]
		c.extensionShape(m, name, v, present, expr)
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for i, it := range arr {
				if typ == "decimal" {
					if d, ok := asDecimal(it); ok {
						arr[i], it, c.rewrote = d, d, true
					}
				}
				c.value(it, t, kid, typ, fmt.Sprintf("%s.%s[%d]", expr, name, i))
			}
		} else {
			if typ == "decimal" {
				if d, ok := asDecimal(v); ok {
					m[name], v, c.rewrote = d, d, true
				}
			}
			c.value(v, t, kid, typ, expr+"."+name)
		}
	}
}

// asDecimal rewrites a decimal written as a JSON integer ("probabilityDecimal": 150)
// so that FHIRPath reads it as a decimal: gofhir types a JSON number by its text, and
// 150 became an Integer, for which "probability is decimal" is false and ras-2 held.
// The exponent form 150e0 keeps the value and its precision (no decimal places);
// jsonEqual compares it equal to 150.
func asDecimal(v any) (json.Number, bool) {
	n, ok := v.(json.Number)
	if !ok || strings.ContainsAny(string(n), ".eE") {
		return "", false
	}
	return n + decimalExponent, true
}

// decimalExponent is what asDecimal appends.
const decimalExponent = "e0"

// value checks one value of kid, of type typ, at expr.
func (c *baseCheck) value(v any, t *baseType, kid *baseElem, typ, expr string) {
	if v == nil {
		return // a null: reported by checkShape
	}
	switch {
	case kid.contentRef != "":
		c.walk(v, nil, t, kid.contentRef, expr)
		return
	case typ == "BackboneElement" || typ == "Element" && len(t.kids[kid.path]) > 0:
		c.walk(v, nil, t, kid.path, expr)
	case typ == "Resource" || c.m.types[typ] != nil && c.m.types[typ].kind == "resource":
		return // nested resources are validated on their own
	case isPrimitive(typ):
		c.primitive(v, typ, expr)
	default:
		if dt := c.m.types[typ]; dt != nil {
			c.walk(v, nil, dt, typ, expr)
		}
	}
	if kid.valueSet != "" {
		c.binding(v, kid, typ, expr)
	}
}

// extensionShape checks the primitive-extension sibling "_name" against "name": for
// an array, the same length, and no index null in both.
func (c *baseCheck) extensionShape(m map[string]any, name string, v any, present bool, expr string) {
	ext, hasExt := m["_"+name]
	if !hasExt {
		return
	}
	earr, eIsArr := ext.([]any)
	varr, vIsArr := v.([]any)
	switch {
	case !present:
		return
	case eIsArr != vIsArr:
		c.r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{expr + "._" + name},
			Diagnostics: fmt.Sprintf("base R4: _%s must have the same shape as %s (both arrays or both single values)", name, name)})
	case eIsArr && len(earr) != len(varr):
		c.r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{expr + "._" + name},
			Diagnostics: fmt.Sprintf("base R4: _%s has %d items but %s has %d: the arrays must have the same length", name, len(earr), name, len(varr))})
	case eIsArr:
		for i := range earr {
			if earr[i] == nil && varr[i] == nil {
				c.r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{fmt.Sprintf("%s.%s[%d]", expr, name, i)},
					Diagnostics: fmt.Sprintf("base R4: %s[%d] is null in both %s and _%s", name, i, name, name)})
			}
		}
	}
}

// primitive checks a primitive value's content beyond the schema's pattern.
func (c *baseCheck) primitive(v any, typ, expr string) {
	s, ok := v.(string)
	if !ok {
		return
	}
	switch typ {
	case "base64Binary":
		if err := checkBase64(s); err != nil {
			c.r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "value", Expression: []string{expr},
				Diagnostics: "base R4: the value is not valid base64Binary: " + err.Error()})
		}
	case "xhtml":
		for _, is := range checkNarrative(s, expr) {
			c.r.add(is)
		}
	}
}

// checkBase64 decodes s as RFC 4648 base64 (whitespace allowed, as in the R4 schema).
func checkBase64(s string) error {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	_, err := base64.StdEncoding.Strict().DecodeString(clean)
	if err != nil {
		if len(clean)%4 != 0 {
			return fmt.Errorf("its length (%d characters) is not a multiple of 4", len(clean))
		}
		return fmt.Errorf("%v", err)
	}
	return nil
}

// binding checks a coded value against the expansion of the element's required
// (error) or extensible (warning) binding. Required bindings of code elements are
// the schema's enums.
func (c *baseCheck) binding(v any, kid *baseElem, typ, expr string) {
	if kid.strength == "required" && typ == "code" {
		return
	}
	vs := c.m.valueSets[kid.valueSet]
	if vs == nil {
		return
	}
	if vs.server {
		if kid.strength == "required" && typ != "code" && typ != "string" && typ != "uri" {
			c.r.add(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational", Expression: []string{expr},
				Diagnostics: fmt.Sprintf("base R4: the codes of ValueSet %s need a terminology server; not checked", vs.url)})
		}
		return
	}
	var codings []any
	switch typ {
	case "code", "string", "uri":
		s, _ := v.(string)
		if s == "" {
			return
		}
		codings = []any{map[string]any{"code": s, "bare": true}}
	case "Coding":
		codings = []any{v}
	case "CodeableConcept":
		codings, _ = field(v, "coding").([]any)
	case "Quantity", "Duration", "Age", "SimpleQuantity":
		if code, _ := field(v, "code").(string); code != "" {
			codings = []any{v}
		}
	default:
		return
	}
	if len(codings) == 0 {
		return // text only: nothing coded to check
	}
	for _, cd := range codings {
		code, _ := field(cd, "code").(string)
		system, _ := field(cd, "system").(string)
		if field(cd, "bare") != nil {
			for k := range vs.codes {
				if strings.HasSuffix(k, "|"+code) {
					return
				}
			}
			continue
		}
		if vs.codes[system+"|"+code] {
			return
		}
	}
	sev, rule := fhir.SeverityWarning, "extensible"
	if kid.strength == "required" {
		sev, rule = fhir.SeverityError, "required"
	}
	c.r.add(fhir.Issue{Severity: sev, Code: "code-invalid", Expression: []string{expr},
		Diagnostics: fmt.Sprintf("base R4: %s: no code is in ValueSet %s (%s binding)", kid.path, vs.url, rule)})
}

// invariants evaluates invs on val at expr.
func (c *baseCheck) invariants(invs []*baseInvariant, val any, raw []byte, path, expr string) {
	for _, inv := range invs {
		if inv.expr == nil {
			continue // listed by UnevaluatedInvariants
		}
		shortcut := 0 // 1: holds without evaluation; -1: fails as on an empty element
		if holds := holdsWithoutEvaluation[inv.key]; holds != nil && holds(val) {
			shortcut = 1
		} else if inv.roots != nil {
			if m, ok := val.(map[string]any); ok && noneOf(m, inv.roots) {
				// none of what it reads is there: it evaluates as on an empty element
				shortcut = c.whenAbsent(inv, path)
			}
		}
		if shortcut != 0 && verifyShortcut == nil {
			if shortcut < 0 {
				c.r.add(c.failure(inv, expr))
			}
			continue
		}
		if raw == nil {
			b, err := json.Marshal(val)
			if err != nil {
				return
			}
			raw = typed(b, path)
		}
		if c.opts == nil {
			c.opts = []fhirpath.EvalOption{fhirpath.WithContext(c.ctx), fhirpath.WithTimeout(0),
				fhirpath.WithModel(c.m.fhirpath), fhirpath.WithVariable("ucum", ucum)}
		}
		opts := c.opts
		if inv.usesResource && c.root != nil {
			if c.rootColl == nil {
				c.rootColl = types.Collection{types.NewObjectValue(c.root)}
			}
			rootRes := c.rootColl
			if c.container != nil {
				rootRes = types.Collection{types.NewObjectValue(c.container)}
			}
			opts = append(opts[:len(opts):len(opts)], fhirpath.WithVariable("resource", c.rootColl), fhirpath.WithVariable("rootResource", rootRes))
		}
		out, err := evaluateBase(inv, raw, opts)
		if verifyShortcut != nil && shortcut != 0 {
			verifyShortcut(inv.key, expr, shortcut > 0, err == nil && isFalse(out))
		}
		switch {
		case err != nil:
			c.r.add(fhir.Issue{Severity: fhir.SeverityWarning, Code: "invariant", Expression: []string{expr},
				Diagnostics: fmt.Sprintf("base R4 %s: %s (could not be evaluated: %v)", inv.key, inv.human, err)})
		case isFalse(out):
			c.r.add(c.failure(inv, expr))
		}
	}
}

// verifyShortcut, set by a test, makes invariants evaluate even when a shortcut
// (holdsWithoutEvaluation, or an element without the invariant's roots) gives the
// verdict, and receives both to compare: holds is the shortcut's, failed the engine's.
var verifyShortcut func(key, expr string, holds, failed bool)

// failure is the issue of a base invariant that does not hold at expr.
func (c *baseCheck) failure(inv *baseInvariant, expr string) fhir.Issue {
	sev := fhir.SeverityError
	switch {
	case bestPractice[inv.key]:
		sev = fhir.SeverityInformation
	case inv.severity == "warning":
		sev = fhir.SeverityWarning
	}
	return fhir.Issue{Severity: sev, Code: "invariant", Expression: []string{expr},
		Diagnostics: fmt.Sprintf("base R4 %s: %s", inv.key, inv.human)}
}

// whenAbsent is inv's verdict on an empty element of path, known once per path: 1 it
// holds, -1 it fails, 0 it could not be evaluated (then it is evaluated on each
// element). An element without the invariant's roots gets the same verdict.
func (c *baseCheck) whenAbsent(inv *baseInvariant, path string) int {
	if v, ok := inv.absent.Load(path); ok {
		return v.(int)
	}
	empty := typed([]byte("{}"), path)
	none := types.Collection{types.NewObjectValue(empty)}
	out, err := evaluateBase(inv, empty, []fhirpath.EvalOption{fhirpath.WithModel(c.m.fhirpath), fhirpath.WithVariable("ucum", ucum),
		fhirpath.WithVariable("resource", none), fhirpath.WithVariable("rootResource", none)})
	verdict := 1
	switch {
	case err != nil:
		verdict = 0
	case isFalse(out):
		verdict = -1
	}
	inv.absent.Store(path, verdict)
	return verdict
}

func evaluateBase(inv *baseInvariant, raw []byte, opts []fhirpath.EvalOption) (fhirpath.Collection, error) {
	if inv.usesRegex {
		regexMu.Lock()
		defer regexMu.Unlock()
	}
	return inv.expr.EvaluateWithOptions(raw, opts...)
}

// bestPractice are the invariants R4 marks as best practice (elementdefinition-
// bestpractice): reported as information, as HL7's validator does by default.
var bestPractice = map[string]bool{"dom-6": true}

// isPrimitive reports whether a type code names an R4 primitive type.
func isPrimitive(typ string) bool {
	return typ != "" && unicode.IsLower(rune(typ[0]))
}

func allPrimitive(ts []string) bool {
	for _, t := range ts {
		if !isPrimitive(t) {
			return false
		}
	}
	return len(ts) > 0
}
