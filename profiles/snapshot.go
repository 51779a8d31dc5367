package profiles

import (
	"encoding/json"
	"fmt"
	"strings"
)

// snapshotBase is where GenerateSnapshot finds the snapshot of a profile's base: a
// profile of a loaded package (by canonical URL), nil when it is base R4 (the base
// model gives its elements) or unknown.
type snapshotBase func(url string) []byte

// GenerateSnapshot returns sd (a constraining StructureDefinition given as a
// differential) with its snapshot: the base's elements (base R4 from the base
// model — paths, cardinalities, types, bindings, invariants — or the snapshot of a
// base profile of the same packages) with the differential applied in order:
// cardinality, types, fixed and pattern values, bindings, constraints, must-support
// and texts of the elements it names; elements inside a data type are expanded from
// the type; slices (by value, pattern, type or profile) are inserted after the sliced
// element with its children. It handles the simple derivations profiles use; a
// differential naming an element the base does not have is an error.
func GenerateSnapshot(sd []byte, base snapshotBase) ([]byte, error) {
	m, err := loadBase()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(sd, &doc); err != nil {
		return nil, err
	}
	baseURL, _ := doc["baseDefinition"].(string)
	typ, _ := doc["type"].(string)
	var elems []map[string]any
	if b := base(baseURL); b != nil {
		var bd struct {
			Snapshot struct {
				Element []map[string]any `json:"element"`
			} `json:"snapshot"`
		}
		if err := json.Unmarshal(b, &bd); err != nil || len(bd.Snapshot.Element) == 0 {
			return nil, fmt.Errorf("profiles: base %s has no snapshot", baseURL)
		}
		elems = bd.Snapshot.Element
	} else if strings.TrimPrefix(baseURL, "http://hl7.org/fhir/StructureDefinition/") == typ && m.types[typ] != nil {
		elems = baseElements(m, typ, typ, typ)
	} else {
		return nil, fmt.Errorf("profiles: base %s of %v is not known", baseURL, doc["url"])
	}
	s := &snapshot{m: m, elems: elems}
	diff, _ := doc["differential"].(map[string]any)
	items, _ := diff["element"].([]any)
	for _, it := range items {
		de, _ := it.(map[string]any)
		if err := s.apply(de); err != nil {
			return nil, fmt.Errorf("profiles: %v: %w", doc["url"], err)
		}
	}
	doc["snapshot"] = map[string]any{"element": s.elems}
	return json.Marshal(doc)
}

// baseElements renders the base model's elements of type typ as snapshot elements,
// rooted at path (the element that has this type) with ids under id.
func baseElements(m *baseModel, typ, path, id string) []map[string]any {
	t := m.types[typ]
	var out []map[string]any
	var walk func(p, ep, eid string)
	walk = func(p, ep, eid string) {
		e := t.elems[p]
		if e == nil {
			return
		}
		el := map[string]any{"id": eid, "path": ep, "min": e.min, "max": e.max,
			"base": map[string]any{"path": p, "min": e.min, "max": e.max}}
		if e.choice {
			el["id"], el["path"] = eid+"[x]", ep+"[x]"
		}
		var types []any
		for _, tc := range e.types {
			types = append(types, map[string]any{"code": tc})
		}
		if len(types) > 0 {
			el["type"] = types
		}
		if e.contentRef != "" {
			el["contentReference"] = "#" + e.contentRef
		}
		if e.valueSet != "" {
			el["binding"] = map[string]any{"strength": e.strength, "valueSet": e.valueSet}
		}
		var cons []any
		for _, inv := range e.invs {
			cons = append(cons, map[string]any{"key": inv.key, "severity": inv.severity, "human": inv.human, "expression": inv.text})
		}
		if len(cons) > 0 {
			el["constraint"] = cons
		}
		out = append(out, el)
		for _, k := range t.kids[p] {
			walk(k.path, ep+"."+k.name, eid+"."+k.name) // a choice child adds its [x]
		}
	}
	walk(typ, path, id)
	return out
}

// snapshot is a snapshot being built: its elements in order.
type snapshot struct {
	m     *baseModel
	elems []map[string]any
}

// find returns the index of the element with that id, -1 if none.
func (s *snapshot) find(id string) int {
	for i, e := range s.elems {
		if e["id"] == id {
			return i
		}
	}
	return -1
}

// end returns the index after the element at i and its descendants.
func (s *snapshot) end(i int) int {
	id, _ := s.elems[i]["id"].(string)
	j := i + 1
	for j < len(s.elems) {
		cid, _ := s.elems[j]["id"].(string)
		if !strings.HasPrefix(cid, id+".") {
			break
		}
		j++
	}
	return j
}

// apply merges one differential element into the snapshot.
func (s *snapshot) apply(de map[string]any) error {
	id, _ := de["id"].(string)
	if id == "" {
		id, _ = de["path"].(string)
	}
	i := s.find(id)
	if i < 0 {
		var err error
		if i, err = s.make(id); err != nil {
			return err
		}
	}
	el := s.elems[i]
	for k, v := range de {
		switch k {
		case "id", "path":
		case "constraint":
			old, _ := el["constraint"].([]any)
			add, _ := v.([]any)
			el["constraint"] = append(append([]any{}, old...), add...)
		default:
			el[k] = v
		}
	}
	return nil
}

// make creates the element with that id: a slice (copy of the sliced element and its
// children, after the existing slices), or a child inside a data type (the type's
// elements expanded under its parent).
func (s *snapshot) make(id string) (int, error) {
	dot := strings.LastIndexByte(id, '.')
	colon := strings.LastIndexByte(id, ':')
	if colon > dot { // a slice: "Patient.identifier:ipp"
		sliced := s.find(id[:colon])
		if sliced < 0 {
			if _, err := s.make(id[:colon]); err != nil {
				return -1, err
			}
			sliced = s.find(id[:colon])
		}
		at := s.end(sliced)
		for at < len(s.elems) { // after the slices already there
			cid, _ := s.elems[at]["id"].(string)
			if !strings.HasPrefix(cid, id[:colon]+":") {
				break
			}
			at = s.end(at)
		}
		var copies []map[string]any
		src, _ := s.elems[sliced]["id"].(string)
		for _, e := range s.elems[sliced:s.end(sliced)] {
			c := map[string]any{}
			for k, v := range e {
				c[k] = v
			}
			eid, _ := e["id"].(string)
			c["id"] = id + strings.TrimPrefix(eid, src)
			delete(c, "slicing")
			delete(c, "extension") // what the sliced element's own extensions say (a seed section) is its own
			copies = append(copies, c)
		}
		copies[0]["sliceName"] = id[colon+1:]
		s.elems = append(s.elems[:at], append(copies, s.elems[at:]...)...)
		return at, nil
	}
	if dot < 0 {
		return -1, fmt.Errorf("element %s is not in the base", id)
	}
	parent := s.find(id[:dot])
	if parent < 0 {
		var err error
		if parent, err = s.make(id[:dot]); err != nil {
			return -1, err
		}
	}
	types, _ := s.elems[parent]["type"].([]any)
	if len(types) != 1 || s.end(parent) != parent+1 {
		return -1, fmt.Errorf("element %s is not in the base", id)
	}
	tc, _ := types[0].(map[string]any)["code"].(string)
	if s.m.types[tc] == nil {
		return -1, fmt.Errorf("element %s: type %s of its parent is not known", id, tc)
	}
	path, _ := s.elems[parent]["path"].(string)
	kids := baseElements(s.m, tc, path, id[:dot])[1:]
	s.elems = append(s.elems[:parent+1], append(kids, s.elems[parent+1:]...)...)
	if i := s.find(id); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("element %s is not in type %s", id, tc)
}
