package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofhir/fhirpath"
)

// structureDef is a StructureDefinition of the package compiled for checking: its
// differential, in order, with every FHIRPath invariant compiled once.
type structureDef struct {
	url, name, typ string
	root           *elementRule
	elements       []*elementRule
	byID           map[string]*elementRule
}

// elementRule is one ElementDefinition of a differential.
type elementRule struct {
	id, path  string
	segs      []pathSeg // after the root type name
	min       int
	max       int // -1: unbounded
	hasMin    bool
	hasMax    bool
	types     []typeRef
	fixed     any // decoded fixed[x], nil if none
	pattern   any // decoded pattern[x], nil if none
	valueSet  string
	slicing   *slicing
	slices    []*elementRule // of a sliced element: its slices, in order
	disc      *discValue     // for a slice of a pattern/value slicing: what its members hold
	seed      string         // seed section of a clinical rule, e.g. "000 §IX"
	modelType string         // what invariants navigate from with the base model (modelTypeOf)
	short     string
	invariant []*invariant
}

// pathSeg is one step of an element path: the element name and, if the id names one,
// the slice; slicedBy/slice are the elements that define the slicing and the slice.
type pathSeg struct {
	name     string
	slice    string
	slicedBy *elementRule
	sliceDef *elementRule
}

type typeRef struct {
	code           string
	profiles       []string
	targetProfiles []string
}

type slicing struct {
	discType, discPath, rules string
}

// discValue is the value a slice's members hold at the discriminator path (pattern
// or value discriminator): the pattern[x] or fixed[x] of the slice's child at that
// path (e.g. Device.property:reservoirVolume.type), or of the slice itself for $this.
type discValue struct {
	path  []string // nil for $this
	val   any
	fixed bool // fixed[x]: exact match; pattern[x]: containment
}

// invariant is an ElementDefinition.constraint with its compiled FHIRPath.
type invariant struct {
	key, severity, human, expression, seed string
	expr                                   *fhirpath.Expression
	required                               *requiredCode // evaluated natively; see requiredCode
	// usesRegex: gofhir v1.4.0's regex cache writes entry.lastUsed under a read lock
	// (funcs/regex.go:61), a data race; such invariants are evaluated one at a time.
	usesRegex bool
}

type rawElement struct {
	ID        string          `json:"id"`
	Path      string          `json:"path"`
	SliceName string          `json:"sliceName"`
	Short     string          `json:"short"`
	Min       *int            `json:"min"`
	Max       string          `json:"max"`
	Extension []rawExtension  `json:"extension"`
	Type      []rawType       `json:"type"`
	Binding   *rawBinding     `json:"binding"`
	Slicing   *rawSlicing     `json:"slicing"`
	Const     []rawConstraint `json:"constraint"`
}

type rawExtension struct {
	URL         string         `json:"url"`
	ValueString string         `json:"valueString"`
	ValueCoding *rawCoding     `json:"valueCoding"`
	Extension   []rawExtension `json:"extension"`
}

type rawCoding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type rawType struct {
	Code          string   `json:"code"`
	Profile       []string `json:"profile"`
	TargetProfile []string `json:"targetProfile"`
}

type rawBinding struct {
	Strength string `json:"strength"`
	ValueSet string `json:"valueSet"`
}

type rawSlicing struct {
	Discriminator []struct{ Type, Path string } `json:"discriminator"`
	Rules         string                        `json:"rules"`
}

type rawConstraint struct {
	Key        string         `json:"key"`
	Severity   string         `json:"severity"`
	Human      string         `json:"human"`
	Expression string         `json:"expression"`
	Extension  []rawExtension `json:"extension"`
}

// compileStructure compiles a StructureDefinition; canonical is the package's base,
// which names the extensions that carry a rule's seed section and required-code rules.
func compileStructure(body []byte, canonical string) (*structureDef, error) {
	exts := ruleExtensions{seed: canonical + "/StructureDefinition/ait-seed-section",
		requiredCode: canonical + "/StructureDefinition/ait-required-code"}
	var sd struct {
		URL, Name, Type string
		Differential    struct {
			Element []json.RawMessage `json:"element"`
		}
	}
	if err := json.Unmarshal(body, &sd); err != nil {
		return nil, err
	}
	d := &structureDef{url: sd.URL, name: sd.Name, typ: sd.Type, byID: map[string]*elementRule{}}
	for i, rawEl := range sd.Differential.Element {
		var re rawElement
		if err := json.Unmarshal(rawEl, &re); err != nil {
			return nil, fmt.Errorf("%s element %d: %w", sd.Name, i, err)
		}
		r, err := compileElement(re, rawEl, exts)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", sd.Name, re.ID, err)
		}
		d.byID[r.id] = r
		if i == 0 {
			if r.path != sd.Type {
				return nil, fmt.Errorf("%s: first element %s is not the root %s", sd.Name, r.path, sd.Type)
			}
			d.root = r
			continue
		}
		d.elements = append(d.elements, r)
	}
	if d.root == nil {
		return nil, fmt.Errorf("%s: empty differential", sd.Name)
	}
	// Link each sliced step to the elements that define its slicing and its slice.
	for _, r := range d.elements {
		ids := strings.Split(r.id, ".")
		for i := range r.segs {
			if r.segs[i].slice == "" {
				continue
			}
			sliceID := strings.Join(ids[:i+2], ".")
			base := strings.Join(ids[:i+1], ".") + "." + r.segs[i].name
			r.segs[i].sliceDef = d.byID[sliceID]
			r.segs[i].slicedBy = d.byID[base]
			if r.segs[i].sliceDef == nil || r.segs[i].slicedBy == nil || r.segs[i].slicedBy.slicing == nil {
				return nil, fmt.Errorf("%s: slice %s has no slicing on %s", sd.Name, sliceID, base)
			}
		}
		if last := r.segs[len(r.segs)-1]; last.slice != "" {
			disc, err := d.discriminator(r, last.slicedBy.slicing)
			if err != nil {
				return nil, fmt.Errorf("%s: slice %s: %w", sd.Name, r.id, err)
			}
			r.disc = disc
			last.slicedBy.slices = append(last.slicedBy.slices, r)
		}
	}
	return d, nil
}

// discriminator finds what the members of slice hold at the slicing's discriminator
// path. R4 puts it on the child element at that path (pattern[x] or fixed[x]); a
// pattern or fixed value of the slice itself also constrains its children. Extension
// slices by url are recognised by their profile; profile/type discriminators need no
// value. A pattern/value slice without a value is an invalid StructureDefinition.
//
// An extension slice's url is its profile (extensionURL).
func (d *structureDef) discriminator(slice *elementRule, sl *slicing) (*discValue, error) {
	if sl.discType != "pattern" && sl.discType != "value" {
		return nil, nil
	}
	if sl.discPath == "url" && len(slice.types) > 0 && len(slice.types[0].profiles) > 0 {
		return nil, nil
	}
	var path []string
	if sl.discPath != "$this" {
		path = strings.Split(sl.discPath, ".")
		if child := d.byID[slice.id+"."+sl.discPath]; child != nil {
			switch {
			case child.fixed != nil:
				return &discValue{path: path, val: child.fixed, fixed: true}, nil
			case child.pattern != nil:
				return &discValue{path: path, val: child.pattern}, nil
			}
		}
	}
	own, fixed := slice.pattern, false
	if slice.fixed != nil {
		own, fixed = slice.fixed, true
	}
	for _, p := range path {
		own = field(own, p)
	}
	if own == nil {
		return nil, fmt.Errorf("no fixed or pattern value at the discriminator path %q", sl.discPath)
	}
	return &discValue{path: path, val: own, fixed: fixed}, nil
}

// matches reports whether item holds the slice's discriminator value.
func (dv *discValue) matches(item any) bool {
	for _, v := range valuesAt(item, dv.path) {
		if dv.fixed && jsonEqual(v, dv.val) || !dv.fixed && containsPattern(v, dv.val) {
			return true
		}
	}
	return false
}

// ruleExtensions are the URLs of the package's extensions on ElementDefinitions.
type ruleExtensions struct{ seed, requiredCode string }

func compileElement(re rawElement, raw json.RawMessage, exts ruleExtensions) (*elementRule, error) {
	r := &elementRule{id: re.ID, path: re.Path, short: re.Short, max: -1}
	if r.id == "" {
		r.id = re.Path
	}
	for _, part := range strings.Split(r.id, ".")[1:] {
		name, slice, _ := strings.Cut(part, ":")
		r.segs = append(r.segs, pathSeg{name: name, slice: slice})
	}
	if re.Min != nil {
		r.min, r.hasMin = *re.Min, true
	}
	if re.Max != "" {
		r.hasMax = true
		if re.Max != "*" {
			n, err := strconv.Atoi(re.Max)
			if err != nil {
				return nil, fmt.Errorf("max %q", re.Max)
			}
			r.max = n
		}
	}
	r.seed = seedOf(re.Extension, exts.seed)
	for _, t := range re.Type {
		r.types = append(r.types, typeRef{code: t.Code, profiles: unversioned(t.Profile), targetProfiles: unversioned(t.TargetProfile)})
	}
	if re.Binding != nil && re.Binding.Strength == "required" {
		r.valueSet = re.Binding.ValueSet
	}
	if re.Slicing != nil && len(re.Slicing.Discriminator) == 1 {
		r.slicing = &slicing{discType: re.Slicing.Discriminator[0].Type, discPath: re.Slicing.Discriminator[0].Path, rules: re.Slicing.Rules}
	} else if re.Slicing != nil {
		return nil, fmt.Errorf("only one discriminator is supported")
	}
	// fixed[x] and pattern[x]: the key names the type; the value is what matters.
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	for k, v := range all {
		switch {
		case strings.HasPrefix(k, "fixed"):
			r.fixed = decodeJSON(v)
		case strings.HasPrefix(k, "pattern"):
			r.pattern = decodeJSON(v)
		}
	}
	for _, c := range re.Const {
		expr, err := fhirpath.Compile(c.Expression)
		if err != nil {
			return nil, fmt.Errorf("invariant %s: %w", c.Key, err)
		}
		required, err := compileRequiredCode(c, exts.requiredCode)
		if err != nil {
			return nil, err
		}
		r.invariant = append(r.invariant, &invariant{key: c.Key, severity: c.Severity, human: c.Human,
			expression: c.Expression, seed: seedOf(c.Extension, exts.seed), expr: expr, required: required,
			usesRegex: strings.Contains(c.Expression, "atches(")})
	}
	return r, nil
}

func seedOf(exts []rawExtension, seedExt string) string {
	for _, e := range exts {
		if e.URL == seedExt {
			return e.ValueString
		}
	}
	return ""
}

// decodeJSON decodes with json.Number so that 21.6 stays 21.6 and large integers
// stay exact.
func decodeJSON(b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// extensionURL is the url of the extensions a slice of a slicing by url holds: the
// profile of its type, or its fixed url; "" for other slices.
func (d *structureDef) extensionURL(slice *elementRule) string {
	if len(slice.types) > 0 && len(slice.types[0].profiles) > 0 {
		return slice.types[0].profiles[0]
	}
	if slice.disc != nil && len(slice.disc.path) == 1 && slice.disc.path[0] == "url" {
		u, _ := slice.disc.val.(string)
		return u
	}
	return ""
}

// unversioned drops the "|4.0.1" of canonical URLs (published snapshots version
// base R4's): profiles are known by URL.
func unversioned(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i], _, _ = strings.Cut(u, "|")
	}
	return out
}
