package search

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/buger/jsonparser"
	"github.com/gofhir/fhirpath/eval"
	"github.com/gofhir/fhirpath/types"
)

// Why a native evaluator: a FHIRPath evaluation costs some 10 µs (parse-tree walk,
// a context per call), and most search parameter branches are plain element paths
// ("Patient.name.family", "Observation.code"). Those are walked here on the JSON
// directly, producing the very values gofhir's navigation produces (same
// types.Value kinds, same order), so that valueKeys gives byte-identical keys
// (checked on every official example by TestNativeIndexEqualsFHIRPath). Anything
// else (where(), resolve(), functions, operators) stays with FHIRPath, and so does a
// plain path wherever the engine would guess a choice element by brute force. The
// walk follows the engine as it runs with elementModel (model.go): direct members
// read without a type (TypeOf is ""), choice members under the model's suffixes.

// elementsOnly is a whole branch made of element names only: "T.a.b", optionally in
// parentheses.
var elementsOnly = regexp.MustCompile(`^([A-Z][A-Za-z]*)((?:\.[a-z][A-Za-z0-9]*)*)$`)

// plainSteps returns the type and the element names of a plain-path branch, ok false
// when the branch is anything else.
func plainSteps(text string) (typ string, steps []string, ok bool) {
	s := strings.TrimSpace(text)
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	m := elementsOnly.FindStringSubmatch(s)
	if m == nil || strings.ContainsAny(s, "()") {
		return "", nil, false
	}
	if m[2] != "" {
		steps = strings.Split(m[2][1:], ".")
	}
	return m[1], steps, true
}

// relativeSteps returns the element names of a relative plain path ("code",
// "valueQuantity"), ok false otherwise.
func relativeSteps(expr string) ([]string, bool) {
	_, steps, ok := plainSteps("X." + strings.TrimSpace(expr))
	return steps, ok && len(steps) > 0
}

// node is a JSON object being navigated, with the FHIR type the engine would give it
// when it came from a typed choice lookup ("" when the engine infers it).
type node struct {
	data []byte
	typ  string
	top  *members // the members of a document's root, already listed
}

// nodeType is the type the engine gives an object (ObjectValue.Type), computed only
// when a choice element must be looked up.
func (n node) nodeType() string {
	if n.typ != "" {
		return n.typ
	}
	return types.NewObjectValue(n.data).Type()
}

// walkRoot navigates steps from the resource body as the engine does for
// "typ.steps…"; ok is false when the native walk cannot promise the engine's result
// (the resource is not of type typ, a brute-force choice lookup could match, or an
// element is present without values, where the pruning of branches.go may differ),
// the caller then evaluates with FHIRPath.
func walkRoot(lc *lazyContext, present members, typ string, steps []string) (types.Collection, bool) {
	if present.typ == "" || !eval.IsSubtypeOfWithModel(present.typ, typ, theModel()) {
		return nil, false
	}
	if len(steps) == 0 {
		data, ok := lc.rootData()
		if !ok {
			return nil, false
		}
		return types.Collection{types.NewObjectValue(data)}, true
	}
	return walk(node{data: present.body, typ: present.typ, top: &present}, steps, nil)
}

// walkItem navigates steps from a composite's item as the engine does for a
// relative path evaluated on that item alone (its own context, type inferred).
func walkItem(present members, steps []string) (types.Collection, bool) {
	return walk(node{data: present.body, top: &present}, steps, nil)
}

// walk appends to out the values found at steps below n, in the engine's order:
// the engine collects each step across all items before the next, which visits the
// leaves in the same order as this depth-first walk.
func walk(n node, steps []string, out types.Collection) (types.Collection, bool) {
	name, last := steps[0], len(steps) == 1
	var raw []byte
	var dt jsonparser.ValueType
	exists := false
	if n.top != nil {
		m, ok := n.top.get(name)
		raw, dt, exists = m.raw, m.t, ok
	} else {
		var err error
		raw, dt, _, err = jsonparser.Get(n.data, name)
		exists = err == nil
	}
	found := false
	if exists {
		visit := func(v []byte, t jsonparser.ValueType) bool {
			if last {
				if x := jsonValue(v, t); x != nil {
					out = append(out, x)
					found = true
				}
				return true
			}
			switch t {
			case jsonparser.Object:
				found = true
				var ok bool
				if out, ok = walk(node{data: v}, steps[1:], out); !ok {
					return false
				}
			case jsonparser.String:
				found = true // a primitive: counted as a child, has no members
			case jsonparser.Number, jsonparser.Boolean:
				found = found || jsonValue(v, t) != nil
			}
			return true
		}
		if dt == jsonparser.Array {
			ok := true
			jsonparser.ArrayEach(raw, func(v []byte, t jsonparser.ValueType, _ int, _ error) {
				if ok {
					ok = visit(v, t)
				}
			})
			if !ok {
				return nil, false
			}
		} else if !visit(raw, dt) {
			return nil, false
		}
	}
	switch {
	case found:
		return out, true
	case exists:
		return nil, false // present but empty (null, []): rare, left to FHIRPath
	}
	return choiceWalk(n, steps, out)
}

// choiceWalk follows the engine when element steps[0] yields nothing directly: it
// looks the element up as a choice under the suffixes the model gives for the
// node's type; when the model does not know the element, the engine tries some
// fifty suffixes, which is left to it unless no member could match.
func choiceWalk(n node, steps []string, out types.Collection) (types.Collection, bool) {
	name := steps[0]
	// Every lookup below, by the model's suffixes or the engine's own list, reads
	// a member name+Suffix: without one, nothing is found whatever the node's type
	// (whose inference costs several scans of the node).
	if !hasChoiceMember(n, name) {
		return out, true
	}
	typ := n.nodeType()
	var suffixes []string
	if m := theModel(); m != nil && typ != "" {
		suffixes = m.ChoiceTypes(typ + "." + name)
	}
	if len(suffixes) == 0 {
		return nil, false // the engine's brute-force lookup: left to it
	}
	if &suffixes[0] == &noChoice[0] {
		return out, true
	}
	obj := types.NewObjectValue(n.data)
	for _, suffix := range suffixes {
		children := obj.GetCollectionWithType(name+upperFirst(suffix), suffix)
		if len(children) == 0 {
			continue
		}
		if len(steps) == 1 {
			return append(out, children...), true
		}
		for _, c := range children {
			o, isObj := c.(*types.ObjectValue)
			if !isObj {
				continue
			}
			var ok bool
			if out, ok = walk(node{data: o.Data(), typ: o.Type()}, steps[1:], out); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return out, true
}

// hasChoiceMember reports whether n has a member name+Suffix (an upper-case letter
// after name), which the engine's brute-force choice lookup could match.
func hasChoiceMember(n node, name string) bool {
	if n.top != nil {
		return n.top.choice(name) != ""
	}
	found := false
	jsonparser.ObjectEach(n.data, func(k, _ []byte, _ jsonparser.ValueType, _ int) error {
		if len(k) > len(name) && string(k[:len(name)]) == name && k[len(name)] >= 'A' && k[len(name)] <= 'Z' {
			found = true
		}
		return nil
	})
	return found
}

// jsonValue converts one JSON value as gofhir does when navigating without a type
// (types.jsonValueToFHIRValue in v1.4.0): strings that look like dates become Date
// or DateTime, integers Integer, other numbers Decimal; arrays and null are nothing.
func jsonValue(data []byte, t jsonparser.ValueType) types.Value {
	switch t {
	case jsonparser.String:
		var s string
		if bytes.IndexByte(data, '\\') < 0 && utf8.Valid(data) {
			s = string(data)
		} else {
			// quoted afresh: appending to data would write into the body
			q := append(append(append(make([]byte, 0, len(data)+2), '"'), data...), '"')
			if err := json.Unmarshal(q, &s); err != nil {
				s = string(data)
			}
		}
		if v := temporal(s); v != nil {
			return v
		}
		return types.NewString(s)
	case jsonparser.Number:
		if !bytes.ContainsAny(data, ".eE") {
			if i, err := jsonparser.ParseInt(data); err == nil {
				return types.NewInteger(i)
			}
		}
		d, err := types.NewDecimal(string(data))
		if err != nil {
			return nil
		}
		return d
	case jsonparser.Boolean:
		b, err := jsonparser.ParseBoolean(data)
		if err != nil {
			return nil
		}
		return types.NewBoolean(b)
	case jsonparser.Object:
		return types.NewObjectValue(data)
	}
	return nil
}

// temporal is gofhir's date heuristic for untyped strings (tryParseTemporalString).
// Both of its patterns start with four ASCII digits: other strings (codes, names)
// are told apart without a regular expression and its error.
func temporal(s string) types.Value {
	if len(s) < 4 {
		return nil
	}
	for i := range 4 {
		if s[i] < '0' || s[i] > '9' {
			return nil
		}
	}
	if len(s) <= 10 {
		if d, err := types.NewDate(s); err == nil {
			return d
		}
	}
	if strings.ContainsAny(s, "TZ") || (len(s) > 10 && (s[10] == '+' || s[10] == '-')) {
		if dt, err := types.NewDateTime(s); err == nil {
			return dt
		}
	}
	return nil
}
