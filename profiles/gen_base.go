//go:build ignore

// gen_base builds schema/r4base.json.gz, the compact model of base R4 the validator
// walks beyond the JSON schema, from the official R4 package:
//
//	npm pack hl7.fhir.r4.examples@4.0.1 && tar xzf hl7.fhir.r4.examples-4.0.1.tgz
//	go run gen_base.go -npm ./package
//
// Per resource and data type (the specialisations, plus the Quantity profiles Age,
// Count, Distance, Duration, MoneyQuantity, SimpleQuantity that elements name as
// types): every element's cardinality, types, content reference, binding, and the
// invariants it defines (constraint.source is this type; on the root, all but ele-1).
// Per required or extensible ValueSet: the codes of its R4 expansion, or "server"
// when the expansion needs a terminology server (a system it includes whole that is
// not a FHIR-defined code system: SNOMED CT, LOINC, UCUM, BCP-13, BCP-47…).
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type constraint struct {
	Key        string `json:"key"`
	Severity   string `json:"severity"`
	Human      string `json:"human"`
	Expression string `json:"expression"`
	Source     string `json:"source,omitempty"`
}

type element struct {
	Path        string       `json:"path"`
	Min         int          `json:"min"`
	Max         string       `json:"max"`
	Types       []string     `json:"types,omitempty"`
	ContentRef  string       `json:"contentRef,omitempty"`
	Constraints []constraint `json:"constraints,omitempty"`
	Strength    string       `json:"strength,omitempty"`
	ValueSet    string       `json:"valueSet,omitempty"`
}

type typeDef struct {
	Kind     string    `json:"kind"`
	Base     string    `json:"base,omitempty"`
	Elements []element `json:"elements"`
}

type valueSet struct {
	Codes  []string `json:"codes,omitempty"`
	Server bool     `json:"server,omitempty"`
}

type model struct {
	Types     map[string]*typeDef  `json:"types"`
	ValueSets map[string]*valueSet `json:"valueSets"`
	// Total is the number of distinct invariant keys base R4 defines on the types.
	Total int `json:"total"`
}

var quantityProfiles = map[string]bool{"Age": true, "Count": true, "Distance": true,
	"Duration": true, "MoneyQuantity": true, "SimpleQuantity": true}

func main() {
	dir := flag.String("npm", "/tmp/npm/package", "unpacked hl7.fhir.r4.examples package")
	flag.Parse()
	files, _ := filepath.Glob(filepath.Join(*dir, "StructureDefinition-*.json"))
	m := model{Types: map[string]*typeDef{}, ValueSets: map[string]*valueSet{}}
	keys := map[string]bool{}
	for _, f := range files {
		var sd struct {
			URL            string `json:"url"`
			ID             string `json:"id"`
			Kind           string `json:"kind"`
			Type           string `json:"type"`
			Derivation     string `json:"derivation"`
			BaseDefinition string `json:"baseDefinition"`
			Snapshot       struct {
				Element []struct {
					Path       string `json:"path"`
					Min        int    `json:"min"`
					Max        string `json:"max"`
					ContentRef string `json:"contentReference"`
					Type       []struct {
						Code      string `json:"code"`
						Extension []struct {
							URL      string `json:"url"`
							ValueURL string `json:"valueUrl"`
						} `json:"extension"`
					} `json:"type"`
					Constraint []constraint `json:"constraint"`
					Binding    *struct {
						Strength string `json:"strength"`
						ValueSet string `json:"valueSet"`
					} `json:"binding"`
				} `json:"element"`
			} `json:"snapshot"`
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(raw, &sd); err != nil {
			log.Fatal(f, err)
		}
		name := sd.Type
		switch {
		case sd.Kind == "logical":
			continue
		case sd.Derivation == "specialization" || sd.ID == "Element" || sd.ID == "Resource" || sd.ID == "BackboneElement":
		case quantityProfiles[sd.ID]:
			name = sd.ID
		default:
			continue
		}
		td := &typeDef{Kind: sd.Kind, Base: strings.TrimPrefix(sd.BaseDefinition, "http://hl7.org/fhir/StructureDefinition/")}
		for i, e := range sd.Snapshot.Element {
			el := element{Path: e.Path, Min: e.Min, Max: e.Max, ContentRef: e.ContentRef}
			if name != sd.Type { // Age's paths say Quantity
				el.Path = name + strings.TrimPrefix(e.Path, sd.Type)
			}
			for _, t := range e.Type {
				code := t.Code
				for _, x := range t.Extension {
					if x.URL == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" {
						code = x.ValueURL
					}
				}
				el.Types = append(el.Types, code)
			}
			for _, c := range e.Constraint {
				if c.Key == "ele-1" {
					keys[c.Key] = true
					continue
				}
				if i == 0 || c.Source == "" || c.Source == sd.URL {
					keys[c.Key] = true
					c.Source = ""
					el.Constraints = append(el.Constraints, c)
				}
			}
			if b := e.Binding; b != nil && (b.Strength == "required" || b.Strength == "extensible") && b.ValueSet != "" {
				el.Strength = b.Strength
				el.ValueSet = strings.SplitN(b.ValueSet, "|", 2)[0]
				m.ValueSets[el.ValueSet] = nil
			}
			td.Elements = append(td.Elements, el)
		}
		m.Types[name] = td
	}
	m.Total = len(keys)
	expansions(*dir, m.ValueSets)
	raw, err := json.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile("schema/r4base.json.gz", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d types, %d value sets, %d invariant keys", len(m.Types), len(m.ValueSets), m.Total)
}

// complete reports whether a code system is enumerated in full by the R4 expansions.
func complete(system string) bool {
	return strings.HasPrefix(system, "http://hl7.org/fhir/") || strings.HasPrefix(system, "http://terminology.hl7.org/CodeSystem/")
}

func expansions(dir string, out map[string]*valueSet) {
	raw, err := os.ReadFile(filepath.Join(dir, "Bundle-valueset-expansions.json"))
	if err != nil {
		log.Fatal(err)
	}
	type contains struct {
		System   string     `json:"system"`
		Code     string     `json:"code"`
		Abstract bool       `json:"abstract"`
		Contains []contains `json:"contains"`
	}
	var b struct {
		Entry []struct {
			Resource struct {
				URL     string `json:"url"`
				Compose struct {
					Include []struct {
						System   string            `json:"system"`
						Concept  []json.RawMessage `json:"concept"`
						Filter   []json.RawMessage `json:"filter"`
						ValueSet []string          `json:"valueSet"`
					} `json:"include"`
				} `json:"compose"`
				Expansion struct {
					Contains []contains `json:"contains"`
				} `json:"expansion"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		log.Fatal(err)
	}
	for _, e := range b.Entry {
		r := e.Resource
		if _, wanted := out[r.URL]; !wanted {
			continue
		}
		vs := &valueSet{}
		for _, inc := range r.Compose.Include {
			if inc.System != "" && len(inc.Concept) == 0 && !complete(inc.System) {
				vs.Server = true
			}
		}
		var walk func([]contains)
		walk = func(cc []contains) {
			for _, c := range cc {
				if c.Code != "" && !c.Abstract {
					vs.Codes = append(vs.Codes, c.System+"|"+c.Code)
				}
				walk(c.Contains)
			}
		}
		walk(r.Expansion.Contains)
		if len(vs.Codes) == 0 {
			vs.Server = true
		}
		if vs.Server {
			vs.Codes = nil
		}
		sort.Strings(vs.Codes)
		out[r.URL] = vs
	}
	for url, vs := range out {
		if vs == nil {
			out[url] = &valueSet{Server: true}
		}
	}
}
