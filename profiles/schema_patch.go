package profiles

import (
	"encoding/json"
	"strings"
)

// patchDefinitions corrects three gaps of the official fhir.schema.json before it is
// compiled:
//
//   - complex types and resources are defined by their properties without
//     "type": "object", so a string or a number stood for any of them ("meta": "x",
//     "text": 5, "name": ["bob"] passed); each definition with properties now requires
//     an object;
//   - canonical-typed properties lack their "_name" sibling (the primitive's id and
//     extensions), so "_baseDefinition" or "_profile" was refused as an additional
//     property although R4 JSON allows it on every primitive;
//   - code properties with an extensible binding carry the ValueSet's codes as an
//     enum, which makes the binding required ("text/cql.identifier" refused in
//     Expression.language); the binding check warns instead (baseCheck.binding).
func patchDefinitions(defs map[string]json.RawMessage) error {
	extensible := map[string]bool{} // schema definition name + "." + property
	if m, err := loadBase(); err == nil {
		for _, t := range m.types {
			for _, e := range t.elems {
				if e.strength == "extensible" && len(e.types) == 1 && e.types[0] == "code" {
					for _, d := range schemaDefNames(e.path) {
						extensible[d] = true
					}
				}
			}
		}
	}
	for name, raw := range defs {
		var def map[string]any
		if json.Unmarshal(raw, &def) != nil {
			continue
		}
		props, _ := def["properties"].(map[string]any)
		changed := false
		if _, typed := def["type"]; props != nil && !typed {
			def["type"] = "object"
			changed = true
		}
		for p, s := range props {
			sm, _ := s.(map[string]any)
			if extensible[name+"."+p] {
				if _, ok := sm["enum"]; ok {
					delete(sm, "enum")
					sm["$ref"] = "#/definitions/code"
					changed = true
				}
			}
			if strings.HasPrefix(p, "_") || props["_"+p] != nil {
				continue
			}
			ref, _ := sm["$ref"].(string)
			items, _ := sm["items"].(map[string]any)
			iref, _ := items["$ref"].(string)
			switch {
			case ref == "#/definitions/canonical":
				props["_"+p] = map[string]any{"$ref": "#/definitions/Element"}
				changed = true
			case iref == "#/definitions/canonical":
				props["_"+p] = map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/Element"}}
				changed = true
			}
		}
		if changed {
			b, err := json.Marshal(def)
			if err != nil {
				return err
			}
			defs[name] = b
		}
	}
	return nil
}

// schemaDefNames gives the schema's names for the property of an element path:
// "Expression.language" → "Expression.language"; "Bundle.entry.request.method" →
// "Bundle_Request.method" (the schema names a backbone by its type and last segment).
func schemaDefNames(path string) []string {
	segs := strings.Split(path, ".")
	if len(segs) == 2 {
		return []string{path}
	}
	parent := segs[len(segs)-2]
	prop := segs[len(segs)-1]
	return []string{segs[0] + "_" + strings.ToUpper(parent[:1]) + parent[1:] + "." + prop}
}
