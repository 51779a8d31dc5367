package profiles

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// External is a FHIR NPM package published by others (hl7.fhir.uv.ips@2.0.0…), loaded
// from its .tgz so that the validator can check resources against its profiles by
// canonical URL. Only its constraining StructureDefinitions are kept.
type External struct {
	Name, Version string
	structures    map[string][]byte // StructureDefinition JSON by canonical URL
	// dataTypes are its data type and logical profiles: the checker applies profiles
	// to resources, so these are reported as not checked.
	dataTypes []string
}

// LoadNPM reads a FHIR NPM package tarball (as "npm pack" downloads it).
func LoadNPM(tgz string) (*External, error) {
	ext := &External{structures: map[string][]byte{}}
	err := walkNPM(tgz, func(name string, body []byte) {
		if path.Base(name) == "package.json" {
			var m struct{ Name, Version string }
			json.Unmarshal(body, &m)
			ext.Name, ext.Version = m.Name, m.Version
			return
		}
		var head struct {
			ResourceType, URL, Kind, Derivation string
		}
		if json.Unmarshal(body, &head) != nil || head.ResourceType != "StructureDefinition" || head.Derivation != "constraint" {
			return
		}
		if head.Kind != "resource" {
			ext.dataTypes = append(ext.dataTypes, head.URL)
			return
		}
		ext.structures[head.URL] = body
	})
	if err != nil {
		return nil, err
	}
	if ext.Name == "" {
		return nil, fmt.Errorf("profiles: %s has no package/package.json", tgz)
	}
	return ext, nil
}

// URLs lists the package's profiles.
func (e *External) URLs() []string {
	out := make([]string, 0, len(e.structures))
	for u := range e.structures {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// Skipped is what WithExternal could not check of an external package: profiles
// whose differential uses a feature this validator does not implement, and required
// bindings to ValueSets it cannot expand (they are not checked).
type Skipped struct {
	Profiles map[string]string // URL → why
	Bindings []string          // "profile element → ValueSet"
	// DataTypes are data type and logical profiles (CodeableConcept-uv-ips…): not
	// checked.
	DataTypes []string
}

// WithExternal returns a validator that also knows the profiles of the external
// packages (their differentials, as for the AIT guide's profiles: cardinalities,
// fixed and pattern values, slices, invariants, reference targets, type profiles).
// What it cannot check is reported, never silently passed.
func (v *Validator) WithExternal(exts ...*External) (*Validator, *Skipped, error) {
	nv := *v
	nv.structures = make(map[string]*structureDef, len(v.structures))
	for k, sd := range v.structures {
		nv.structures[k] = sd
	}
	skipped := &Skipped{Profiles: map[string]string{}}
	ps := newProfileSet()
	nv.sources = make(map[string][]byte, len(v.sources))
	for k, b := range v.sources {
		nv.sources[k] = b
		ps.bodies[k] = b
	}
	for _, e := range exts {
		for _, url := range e.URLs() {
			if _, dup := nv.sources[url]; dup {
				return nil, nil, fmt.Errorf("profiles: %s is defined twice", url)
			}
			nv.sources[url] = e.structures[url]
			ps.bodies[url] = e.structures[url]
		}
	}
	for _, e := range exts {
		skipped.DataTypes = append(skipped.DataTypes, e.dataTypes...)
		for _, url := range e.URLs() {
			sd, err := compileProfile(ps, url, "urn:external:"+e.Name)
			if err == nil {
				err = entrySlices(sd)
			}
			if err != nil {
				skipped.Profiles[url] = err.Error()
				continue
			}
			for _, el := range append([]*elementRule{sd.root}, sd.elements...) {
				if el.valueSet != "" && nv.valueSets[el.valueSet] == nil {
					skipped.Bindings = append(skipped.Bindings, sd.name+" "+el.id+" → "+el.valueSet)
					el.valueSet = ""
				}
			}
			nv.structures[url] = sd
		}
	}
	return &nv, skipped, nil
}

// normalizeDifferential adapts a published differential to what compileStructure
// reads: the root element first (IGs often omit it when unconstrained), and of a
// slicing by both type and profile of the same path, the profile discriminator alone
// (the profile implies the type).
func normalizeDifferential(body []byte) ([]byte, error) {
	var sd map[string]any
	if err := json.Unmarshal(body, &sd); err != nil {
		return nil, err
	}
	typ, _ := sd["type"].(string)
	diff, _ := sd["differential"].(map[string]any)
	els, _ := diff["element"].([]any)
	if len(els) == 0 {
		return nil, fmt.Errorf("empty differential")
	}
	if first, _ := els[0].(map[string]any); first["path"] != typ {
		els = append([]any{map[string]any{"id": typ, "path": typ}}, els...)
	}
	els = sliceBases(els)
	for _, el := range els {
		sl, _ := el.(map[string]any)["slicing"].(map[string]any)
		ds, _ := sl["discriminator"].([]any)
		if len(ds) < 2 {
			continue
		}
		var keep []any
		for _, d := range ds {
			if d.(map[string]any)["type"] == "profile" {
				keep = append(keep, d)
			}
		}
		if len(keep) != 1 {
			return nil, fmt.Errorf("%v: a slicing with several discriminators other than type+profile", el.(map[string]any)["id"])
		}
		sl["discriminator"] = keep
	}
	diff["element"] = els
	return json.Marshal(sd)
}

// entrySlices turns a Bundle's entry slices "by profile of resource" (the
// discriminator path is the embedded resource, not a reference) into what the checker
// matches: the resourceType when one slice alone holds that type (Composition,
// Patient…), else the profile the resource claims in meta.profile (the Observation
// slices). Each member is then validated against its profile as the entry resource's
// type profile.
func entrySlices(sd *structureDef) error {
	perType := map[string]int{}
	for _, el := range sd.elements {
		if last := el.segs[len(el.segs)-1]; last.slice != "" && last.slicedBy != nil && last.slicedBy.slicing.discPath == "resource" {
			if child := sd.byID[el.id+".resource"]; child != nil && len(child.types) > 0 {
				perType[child.types[0].code]++
			}
		}
	}
	for _, el := range sd.elements {
		last := el.segs[len(el.segs)-1]
		if last.slice == "" || last.slicedBy == nil || last.slicedBy.slicing.discPath != "resource" {
			continue
		}
		child := sd.byID[el.id+".resource"]
		if child == nil || len(child.types) == 0 {
			return fmt.Errorf("slice %s names no resource type", el.id)
		}
		t := child.types[0]
		if len(t.profiles) > 0 && perType[t.code] > 1 {
			el.disc = &discValue{path: []string{"resource", "meta", "profile"}, val: t.profiles[0], fixed: true}
		} else {
			el.disc = &discValue{path: []string{"resource", "resourceType"}, val: t.code, fixed: true}
		}
	}
	for _, el := range sd.elements {
		if el.slicing != nil && el.slicing.discPath == "resource" {
			el.slicing.discType = "value"
		}
	}
	return nil
}

// sliceBases adds, before a slice whose sliced element is not in the differential
// with a slicing, that element with the slicing it inherits: the one declared on the
// same path outside the enclosing slice, or for extensions the base R4 slicing by url.
func sliceBases(els []any) []any {
	byID := map[string]map[string]any{}
	for _, el := range els {
		m := el.(map[string]any)
		id, _ := m["id"].(string)
		byID[id] = m
	}
	var out []any
	for _, el := range els {
		m := el.(map[string]any)
		id, _ := m["id"].(string)
		if i := strings.LastIndex(id, ":"); i > 0 && !strings.Contains(id[i:], ".") {
			base := id[:i]
			if b := byID[base]; b == nil || b["slicing"] == nil {
				var slicing any
				if src := byID[stripSlices(base)]; src != nil && src["slicing"] != nil {
					slicing = src["slicing"]
				} else if strings.HasSuffix(base, "extension") || strings.HasSuffix(base, "Extension") {
					slicing = map[string]any{"discriminator": []any{map[string]any{"type": "value", "path": "url"}}, "rules": "open"}
				}
				if slicing != nil {
					if b == nil {
						b = map[string]any{"id": base, "path": m["path"]}
						out = append(out, b)
						byID[base] = b
					}
					b["slicing"] = slicing
				}
			}
		}
		out = append(out, el)
	}
	return out
}

// stripSlices drops the slice names of an element id.
func stripSlices(id string) string {
	parts := strings.Split(id, ".")
	for i, p := range parts {
		parts[i], _, _ = strings.Cut(p, ":")
	}
	return strings.Join(parts, ".")
}

// walkNPM calls fn with the name and content of each JSON file directly under
// package/ in a FHIR NPM package tarball (not the examples, other/ or xml/).
func walkNPM(tgz string, fn func(name string, body []byte)) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("profiles: %s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("profiles: %s: %w", tgz, err)
		}
		if path.Dir(h.Name) != "package" || !strings.HasSuffix(h.Name, ".json") {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(tr, 64<<20))
		if err != nil {
			return err
		}
		fn(h.Name, body)
	}
}
