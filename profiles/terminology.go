package profiles

import (
	"encoding/json"
	"fmt"
)

// valueSet is an expanded ValueSet of the package: the codes it enumerates, and the
// systems it includes whole. A whole system outside the package (e.g. all of LOINC)
// admits any code of that system: the gateway has no terminology server offline.
type valueSet struct {
	url   string
	codes map[string]bool // system|code
	whole map[string]bool // system
}

func (vs *valueSet) contains(system, code string) bool {
	if vs.codes[system+"|"+code] || vs.whole[system] {
		return true
	}
	if system == "" { // a bare code (type code): match it in any enumerated system
		for k := range vs.codes {
			if len(k) > len(code) && k[len(k)-len(code)-1:] == "|"+code {
				return true
			}
		}
	}
	return false
}

// expandValueSets expands the package's ValueSets over its CodeSystems.
func expandValueSets(p *Package) (map[string]*valueSet, error) {
	type concept struct {
		Code    string    `json:"code"`
		Concept []concept `json:"concept"`
	}
	systems := map[string][]string{}
	for _, r := range p.resources {
		if r.Type != "CodeSystem" || r.Example {
			continue
		}
		var cs struct {
			URL     string    `json:"url"`
			Concept []concept `json:"concept"`
		}
		if err := json.Unmarshal(r.Body, &cs); err != nil {
			return nil, fmt.Errorf("CodeSystem %s: %w", r.ID, err)
		}
		var walk func([]concept)
		walk = func(cc []concept) {
			for _, c := range cc {
				systems[cs.URL] = append(systems[cs.URL], c.Code)
				walk(c.Concept)
			}
		}
		walk(cs.Concept)
	}
	out := map[string]*valueSet{}
	for _, r := range p.resources {
		if r.Type != "ValueSet" || r.Example {
			continue
		}
		var vsr struct {
			URL     string `json:"url"`
			Compose struct {
				Include []struct {
					System  string `json:"system"`
					Concept []struct {
						Code string `json:"code"`
					} `json:"concept"`
				} `json:"include"`
			} `json:"compose"`
		}
		if err := json.Unmarshal(r.Body, &vsr); err != nil {
			return nil, fmt.Errorf("ValueSet %s: %w", r.ID, err)
		}
		vs := &valueSet{url: vsr.URL, codes: map[string]bool{}, whole: map[string]bool{}}
		for _, inc := range vsr.Compose.Include {
			switch {
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
		out[vs.url] = vs
	}
	return out, nil
}
