package profiles

import (
	"strings"
)

// baseFHIRPathModel gives the FHIRPath engine the types of base R4 (fhirpath.Model):
// the suffixes of choice elements, the type of each element, contentReferences. Without
// it the engine tries some fifty type suffixes on every absent element, each a scan of
// the JSON, which made invariants on ElementDefinitions cost seconds. A backbone
// element's type is its path ("Bundle.entry"), so navigation stays typed below it.
type baseFHIRPathModel struct {
	m      *baseModel
	byPath map[string]*baseElem // element paths, choice ones without "[x]"
}

var noChoiceSuffix = []string{"\x00"}

func newBaseFHIRPathModel(m *baseModel) *baseFHIRPathModel {
	fm := &baseFHIRPathModel{m: m, byPath: map[string]*baseElem{}}
	for _, t := range m.types {
		for p, e := range t.elems {
			fm.byPath[strings.TrimSuffix(p, "[x]")] = e
		}
	}
	return fm
}

// ChoiceTypes implements fhirpath.Model.
func (fm *baseFHIRPathModel) ChoiceTypes(path string) []string {
	e := fm.byPath[path]
	switch {
	case e == nil:
		return nil
	case !e.choice:
		return noChoiceSuffix
	}
	return e.types
}

// TypeOf implements fhirpath.Model.
func (fm *baseFHIRPathModel) TypeOf(path string) string {
	e := fm.byPath[path]
	if e == nil || e.choice || len(e.types) != 1 {
		return ""
	}
	switch t := e.types[0]; t {
	case "BackboneElement", "Element":
		if len(fm.m.types[strings.SplitN(path, ".", 2)[0]].kids[e.path]) > 0 {
			return e.path
		}
		return t
	case "Resource":
		return ""
	default:
		return t
	}
}

// ReferenceTargets implements fhirpath.Model (not needed by the invariants).
func (fm *baseFHIRPathModel) ReferenceTargets(string) []string { return nil }

// ParentType implements fhirpath.Model.
func (fm *baseFHIRPathModel) ParentType(typeName string) string {
	if t := fm.m.types[typeName]; t != nil {
		return t.base
	}
	return ""
}

// IsSubtype implements fhirpath.Model.
func (fm *baseFHIRPathModel) IsSubtype(child, parent string) bool {
	for i := 0; child != "" && i < 10; i++ {
		if child == parent {
			return true
		}
		child = fm.ParentType(child)
	}
	return false
}

// ResolvePath implements fhirpath.Model: a contentReference's target path.
func (fm *baseFHIRPathModel) ResolvePath(path string) string {
	if e := fm.byPath[path]; e != nil && e.contentRef != "" {
		return e.contentRef
	}
	return path
}

// IsResource implements fhirpath.Model.
func (fm *baseFHIRPathModel) IsResource(typeName string) bool {
	t := fm.m.types[typeName]
	return t != nil && t.kind == "resource"
}

// typed returns raw with "resourceType" set to typ (a data type or a backbone path),
// so that the engine navigates it with the model from its root.
func typed(raw []byte, typ string) []byte {
	if len(raw) < 2 || raw[0] != '{' {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(typ)+20)
	out = append(out, `{"resourceType":"`...)
	out = append(out, typ...)
	out = append(out, '"')
	if strings.TrimSpace(string(raw[1:2])) != "}" {
		out = append(out, ',')
	}
	return append(out, raw[1:]...)
}
