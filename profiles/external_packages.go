package profiles

import (
	"encoding/json"
	"path"
	"strings"
)

// WithPackages returns a validator that also knows the FHIR NPM packages at the given
// paths (.tgz, as "npm pack" downloads them): their resource profiles (WithExternal)
// and their ValueSets and CodeSystems, so that the profiles' required bindings to
// them are checked. A package's dependencies are loaded by giving them too (base R4
// is built in). What cannot be checked is in Skipped.
func (v *Validator) WithPackages(tgzs ...string) (*Validator, *Skipped, error) {
	var exts []*External
	nv := *v
	nv.valueSets = make(map[string]*valueSet, len(v.valueSets))
	for k, vs := range v.valueSets {
		nv.valueSets[k] = vs
	}
	for _, tgz := range tgzs {
		ext, err := LoadNPM(tgz)
		if err != nil {
			return nil, nil, err
		}
		exts = append(exts, ext)
		vss, err := loadNPMTerminology(tgz)
		if err != nil {
			return nil, nil, err
		}
		for url, vs := range vss {
			if _, known := nv.valueSets[url]; !known {
				nv.valueSets[url] = vs
			}
		}
	}
	return nv.WithExternal(exts...)
}

// loadNPMTerminology expands the ValueSets of a package over its CodeSystems, as the
// guide's own (expandValueSets): enumerated concepts, or whole systems (of the
// package: its codes; outside it: any code of that system, there is no terminology
// server offline). ValueSets with filters or that include other ValueSets are left
// out: bindings to them are reported as not checked.
func loadNPMTerminology(tgz string) (map[string]*valueSet, error) {
	type concept struct {
		Code    string    `json:"code"`
		Concept []concept `json:"concept"`
	}
	type include struct {
		System  string `json:"system"`
		Concept []struct {
			Code string `json:"code"`
		} `json:"concept"`
		Filter   []json.RawMessage `json:"filter"`
		ValueSet []string          `json:"valueSet"`
	}
	type resource struct {
		ResourceType string    `json:"resourceType"`
		URL          string    `json:"url"`
		Concept      []concept `json:"concept"`
		Compose      struct {
			Include []include `json:"include"`
		} `json:"compose"`
	}
	systems := map[string][]string{}
	var sets []resource
	err := walkNPM(tgz, func(name string, body []byte) {
		if base := path.Base(name); !strings.HasPrefix(base, "ValueSet-") && !strings.HasPrefix(base, "CodeSystem-") {
			return
		}
		var r resource
		if json.Unmarshal(body, &r) != nil || r.URL == "" {
			return
		}
		switch r.ResourceType {
		case "CodeSystem":
			var walk func([]concept)
			walk = func(cc []concept) {
				for _, c := range cc {
					systems[r.URL] = append(systems[r.URL], c.Code)
					walk(c.Concept)
				}
			}
			walk(r.Concept)
		case "ValueSet":
			sets = append(sets, r)
		}
	})
	if err != nil {
		return nil, err
	}
	out := map[string]*valueSet{}
next:
	for _, r := range sets {
		vs := &valueSet{url: r.URL, codes: map[string]bool{}, whole: map[string]bool{}}
		for _, inc := range r.Compose.Include {
			switch {
			case len(inc.Filter) > 0 || len(inc.ValueSet) > 0 || inc.System == "":
				continue next
			case len(inc.Concept) > 0:
				for _, c := range inc.Concept {
					vs.codes[inc.System+"|"+c.Code] = true
				}
			case systems[inc.System] != nil:
				for _, c := range systems[inc.System] {
					vs.codes[inc.System+"|"+c] = true
				}
			default:
				vs.whole[inc.System] = true
			}
		}
		out[r.URL] = vs
	}
	return out, nil
}
