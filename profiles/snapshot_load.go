package profiles

import (
	"encoding/json"
	"fmt"
	"strings"
)

// profileSet is the constraining StructureDefinitions known when profiles are
// compiled (the guide's and those of the loaded packages), so that each is checked
// against its snapshot: its own, or one generated from its differential over its
// base (base R4 or another profile of the set, generated first).
type profileSet struct {
	bodies map[string][]byte // by canonical URL
	snaps  map[string][]byte // generated snapshots, by URL
	errs   map[string]error  // snapshots that could not be generated
}

func newProfileSet() *profileSet {
	return &profileSet{bodies: map[string][]byte{}, snaps: map[string][]byte{}, errs: map[string]error{}}
}

// snapshot returns the StructureDefinition at url with its snapshot (nil for base R4
// or an unknown url: GenerateSnapshot builds on the base model then).
func (ps *profileSet) snapshot(url string) []byte {
	b, err := ps.withSnapshot(url)
	if err != nil {
		return nil
	}
	return b
}

// withSnapshot is snapshot with the reason when the snapshot cannot be had.
func (ps *profileSet) withSnapshot(url string) ([]byte, error) {
	if b, ok := ps.snaps[url]; ok {
		return b, nil
	}
	if err, ok := ps.errs[url]; ok {
		return nil, err
	}
	body := ps.bodies[url]
	if body == nil {
		return nil, fmt.Errorf("profile %s is not loaded", url)
	}
	var head struct {
		Snapshot struct {
			Element []json.RawMessage `json:"element"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, err
	}
	if len(head.Snapshot.Element) > 0 {
		ps.snaps[url] = body
		return body, nil
	}
	ps.errs[url] = fmt.Errorf("profile %s derives from itself", url) // while in progress
	b, err := GenerateSnapshot(body, ps.snapshot)
	if err != nil {
		ps.errs[url] = err
		return nil, err
	}
	delete(ps.errs, url)
	ps.snaps[url] = b
	return b, nil
}

// checkedDefinition returns the StructureDefinition at url with, as its differential,
// the elements of its snapshot the checker must check (checkedElements): what the
// profile and the profiles it derives from constrain beyond base R4, with the values
// the snapshot merged. Base R4 itself is checked by the base walk.
func (ps *profileSet) checkedDefinition(url string) ([]byte, error) {
	b, err := ps.withSnapshot(url)
	if err != nil {
		return nil, err
	}
	m, err := loadBase()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	// the elements named by the differentials of the profile and its ancestors
	named := map[string]bool{}
	for u, depth := url, 0; u != "" && depth < 20; depth++ {
		body := ps.bodies[u]
		if body == nil {
			break
		}
		var d struct {
			BaseDefinition string
			Differential   struct{ Element []struct{ ID, Path string } }
		}
		if json.Unmarshal(body, &d) != nil {
			break
		}
		for _, e := range d.Differential.Element {
			id := e.ID
			if id == "" {
				id = e.Path
			}
			named[id] = true
		}
		u = d.BaseDefinition
	}
	snap, _ := doc["snapshot"].(map[string]any)
	raw, _ := snap["element"].([]any)
	var elems []map[string]any
	for _, e := range raw {
		if em, ok := e.(map[string]any); ok {
			elems = append(elems, em)
		}
	}
	doc["differential"] = map[string]any{"element": checkedElements(m, elems, named)}
	delete(doc, "snapshot")
	return json.Marshal(doc)
}

// checkedElements selects, in snapshot order, the elements that constrain an
// instance beyond base R4: the root; elements a differential names; slices and the
// elements they slice; and any other element whose cardinality, fixed or pattern
// value, required binding or invariants differ from base R4. An element inside a
// slice that repeats what the same element outside the slice says is left out (its
// rules already apply to every item). Base R4 invariants and bindings are dropped
// from the selected elements: the base walk evaluates them on every element.
func checkedElements(m *baseModel, elems []map[string]any, named map[string]bool) []any {
	byID := map[string]map[string]any{}
	sliced := map[string]bool{} // ids of elements that have slices
	for _, e := range elems {
		id := elemID(e)
		byID[id] = e
		if i := strings.LastIndexByte(id, ':'); i > strings.LastIndexByte(id, '.') {
			sliced[id[:i]] = true
		}
	}
	var out []any
	for i, e := range elems {
		id := elemID(e)
		be := m.baseElem(e)
		c := map[string]any{}
		for k, v := range e {
			c[k] = v
		}
		c["constraint"] = profileConstraints(m, e)
		if strings.Contains(id, ":") {
			// a slice repeats the invariants of the element it slices: they already
			// apply to every item
			c["constraint"] = withoutKeys(c["constraint"].([]any), byID[stripSlices(id)])
		}
		if len(c["constraint"].([]any)) == 0 {
			delete(c, "constraint")
		}
		if sameBinding(e, be) {
			delete(c, "binding")
		}
		keep := i == 0 || named[id] || e["sliceName"] != nil || sliced[id] ||
			constrains(c, be)
		if sl, ok := e["slicing"].(map[string]any); ok && !sliced[id] {
			if sl["rules"] == "closed" {
				keep = true
			} else if !named[id] {
				delete(c, "slicing") // the open slicing of base R4 extensions: nothing to check
			}
		}
		if keep && i > 0 && e["sliceName"] == nil && !named[id] && !sliced[id] && strings.Contains(id, ":") {
			if plain := byID[stripSlices(id)]; plain != nil && sameRules(e, plain) {
				keep = false
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

func elemID(e map[string]any) string {
	if id, _ := e["id"].(string); id != "" {
		return id
	}
	p, _ := e["path"].(string)
	return p
}

// baseElem returns the base R4 element a snapshot element derives from (its
// base.path), nil when unknown.
func (m *baseModel) baseElem(e map[string]any) *baseElem {
	p, _ := field(e["base"], "path").(string)
	if p == "" {
		p, _ = e["path"].(string)
	}
	t := m.types[strings.SplitN(p, ".", 2)[0]]
	if t == nil {
		return nil
	}
	return t.elems[p]
}

// constrains reports whether the selected copy c of a snapshot element says more than
// its base R4 element be: another cardinality, a fixed or pattern value, a binding
// or invariants of its own (base ones already dropped).
func constrains(c map[string]any, be *baseElem) bool {
	if c["constraint"] != nil || c["binding"] != nil {
		return true
	}
	for k := range c {
		if strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern") {
			return true
		}
	}
	minV, _ := c["min"].(float64)
	maxV, _ := c["max"].(string)
	if be == nil {
		return minV > 0 || maxV != "" && maxV != "*"
	}
	return int(minV) != be.min || maxV != "" && maxV != be.max
}

// profileConstraints returns the element's constraints that base R4 does not define.
func profileConstraints(m *baseModel, e map[string]any) []any {
	list, _ := e["constraint"].([]any)
	out := []any{}
	for _, c := range list {
		key, _ := field(c, "key").(string)
		src, _ := field(c, "source").(string)
		if m.invariantKeys()[key] && (src == "" || strings.HasPrefix(src, "http://hl7.org/fhir/StructureDefinition/")) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// sameBinding reports whether the element's binding is base R4's (checked by the
// base walk) or not a required one (the only strength profiles enforce).
func sameBinding(e map[string]any, be *baseElem) bool {
	b, ok := e["binding"].(map[string]any)
	if !ok {
		return true
	}
	if b["strength"] != "required" {
		return true
	}
	vs, _ := b["valueSet"].(string)
	vs, _, _ = strings.Cut(vs, "|")
	return be != nil && be.strength == "required" && be.valueSet == vs
}

// sameRules reports whether two snapshot elements say the same for the checker.
func sameRules(a, b map[string]any) bool {
	for _, k := range []string{"min", "max", "type", "binding", "constraint"} {
		if !jsonEqualAny(a[k], b[k]) {
			return false
		}
	}
	for k := range a {
		if strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern") {
			if !jsonEqualAny(a[k], b[k]) {
				return false
			}
		}
	}
	for k := range b {
		if (strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern")) && a[k] == nil {
			return false
		}
	}
	return true
}

// jsonEqualAny compares two values decoded by encoding/json (float64 numbers).
func jsonEqualAny(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// invariantKeys are the keys of base R4's invariants.
func (m *baseModel) invariantKeys() map[string]bool {
	m.keysOnce.Do(func() {
		m.keys = map[string]bool{}
		for _, t := range m.types {
			for _, e := range t.elems {
				for _, inv := range e.invs {
					m.keys[inv.key] = true
				}
			}
		}
	})
	return m.keys
}

// withoutKeys drops from list the constraints whose key the element plain also has.
func withoutKeys(list []any, plain map[string]any) []any {
	if plain == nil {
		return list
	}
	have := map[string]bool{}
	pl, _ := plain["constraint"].([]any)
	for _, c := range pl {
		k, _ := field(c, "key").(string)
		have[k] = true
	}
	out := []any{}
	for _, c := range list {
		if k, _ := field(c, "key").(string); !have[k] {
			out = append(out, c)
		}
	}
	return out
}

// compileProfile compiles the profile at url of ps for checking: against its snapshot
// (checkedDefinition), read as compileStructure reads a differential
// (normalizeDifferential). canonical names the seed-section and required-code
// extensions of the guide.
func compileProfile(ps *profileSet, url, canonical string) (*structureDef, error) {
	body, err := ps.checkedDefinition(url)
	if err != nil {
		return nil, err
	}
	if body, err = normalizeDifferential(body); err != nil {
		return nil, err
	}
	sd, err := compileStructure(body, canonical)
	if err != nil {
		return nil, err
	}
	if m, err := loadBase(); err == nil {
		for _, e := range append([]*elementRule{sd.root}, sd.elements...) {
			if len(e.invariant) > 0 {
				e.modelType = modelTypeOf(m, sd.typ, e.path)
			}
		}
	}
	return sd, nil
}

// modelTypeOf returns the base R4 type the engine navigates an element of path from
// (a backbone element's path, a data type's name), "" when the base model has no
// single type for it (then invariants on it are evaluated without the model).
func modelTypeOf(m *baseModel, resourceType, path string) string {
	if path == resourceType {
		return resourceType
	}
	t := m.types[resourceType]
	if t == nil {
		return ""
	}
	e := t.elems[path]
	if e == nil || e.choice || len(e.types) != 1 {
		return ""
	}
	if len(t.kids[path]) > 0 {
		return path
	}
	if dt := m.types[e.types[0]]; dt != nil && dt.kind != "resource" && !isPrimitive(e.types[0]) {
		return e.types[0]
	}
	return ""
}
