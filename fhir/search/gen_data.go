//go:build ignore

// gen_data builds the compact embedded data of fhir/search from the official R4
// package:
//
//	npm pack hl7.fhir.r4.examples@4.0.1 && tar xzf hl7.fhir.r4.examples-4.0.1.tgz
//	go run gen_data.go -npm ./package
//
// It writes searchparams.json.gz (the 1,375 SearchParameters reduced to what search
// needs), summary.json.gz (top-level isSummary and mandatory elements per resource
// type), elements.json.gz (top-level elements and choice types per type) and
// testdata/examples.json.gz (official examples of the types the gateway serves, for
// the registry test).
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

type component struct {
	Definition string `json:"definition"`
	Expression string `json:"expression"`
}

type param struct {
	URL        string      `json:"url"`
	Code       string      `json:"code"`
	Base       []string    `json:"base"`
	Type       string      `json:"type"`
	Expression string      `json:"expression,omitempty"`
	Target     []string    `json:"target,omitempty"`
	MultipleOr *bool       `json:"multipleOr,omitempty"`
	Modifier   []string    `json:"modifier,omitempty"`
	Chain      []string    `json:"chain,omitempty"`
	Component  []component `json:"component,omitempty"`
}

// exampleTypes are the resource types whose examples feed the registry test.
var exampleTypes = []string{"Patient", "Practitioner", "PractitionerRole", "Organization",
	"ServiceRequest", "CarePlan", "MedicationRequest", "Medication", "Device", "Procedure",
	"Observation", "DiagnosticReport", "DocumentReference", "Consent", "Communication",
	"Encounter", "CareTeam", "Bundle", "MedicationStatement", "Condition", "AuditEvent",
	"Subscription"}

func main() {
	dir := flag.String("npm", "/tmp/npm/package", "unpacked hl7.fhir.r4.examples package")
	flag.Parse()

	var bundle struct {
		Entry []struct {
			Resource param `json:"resource"`
		} `json:"entry"`
	}
	readJSON(filepath.Join(*dir, "Bundle-searchParams.json"), &bundle)
	params := make([]param, 0, len(bundle.Entry))
	for _, e := range bundle.Entry {
		params = append(params, e.Resource)
	}
	writeGz("searchparams.json.gz", params)

	type elements struct {
		Summary   []string `json:"summary"`
		Mandatory []string `json:"mandatory,omitempty"`
	}
	summary := map[string]elements{}
	files, _ := filepath.Glob(filepath.Join(*dir, "StructureDefinition-*.json"))
	for _, f := range files {
		var sd struct {
			Kind       string `json:"kind"`
			Derivation string `json:"derivation"`
			Type       string `json:"type"`
			Snapshot   struct {
				Element []struct {
					Path      string `json:"path"`
					IsSummary bool   `json:"isSummary"`
					Min       int    `json:"min"`
				} `json:"element"`
			} `json:"snapshot"`
		}
		readJSON(f, &sd)
		if sd.Kind != "resource" || sd.Derivation != "specialization" {
			continue
		}
		var els elements
		for _, el := range sd.Snapshot.Element {
			parts := strings.Split(el.Path, ".")
			if len(parts) != 2 {
				continue
			}
			name := strings.TrimSuffix(parts[1], "[x]")
			if el.IsSummary {
				els.Summary = append(els.Summary, name)
			}
			if el.Min > 0 {
				els.Mandatory = append(els.Mandatory, name)
			}
		}
		sort.Strings(els.Summary)
		summary[sd.Type] = els
	}
	writeGz("summary.json.gz", summary)

	// elements: per resource and data type, its top-level elements, with the type
	// suffixes of choice elements (deceased → Boolean, DateTime) and [] otherwise.
	elementsOf := map[string]map[string][]string{}
	for _, f := range files {
		var sd struct {
			Kind       string `json:"kind"`
			Derivation string `json:"derivation"`
			Type       string `json:"type"`
			Abstract   bool   `json:"abstract"`
			Snapshot   struct {
				Element []struct {
					Path string `json:"path"`
					Type []struct {
						Code string `json:"code"`
					} `json:"type"`
				} `json:"element"`
			} `json:"snapshot"`
		}
		readJSON(f, &sd)
		if (sd.Kind != "resource" && sd.Kind != "complex-type") || sd.Derivation != "specialization" {
			continue
		}
		m := map[string][]string{}
		for _, el := range sd.Snapshot.Element {
			parts := strings.Split(el.Path, ".")
			if len(parts) != 2 {
				continue
			}
			name := parts[1]
			if !strings.HasSuffix(name, "[x]") {
				m[name] = []string{}
				continue
			}
			var suffixes []string
			for _, t := range el.Type {
				suffixes = append(suffixes, strings.ToUpper(t.Code[:1])+t.Code[1:])
			}
			m[strings.TrimSuffix(name, "[x]")] = suffixes
		}
		elementsOf[sd.Type] = m
	}
	writeGz("elements.json.gz", elementsOf)

	var examples []json.RawMessage
	for _, t := range exampleTypes {
		fs, _ := filepath.Glob(filepath.Join(*dir, t+"-*.json"))
		sort.Strings(fs)
		for _, f := range fs {
			b, err := os.ReadFile(f)
			if err != nil {
				log.Fatal(err)
			}
			if len(b) > 60000 { // keep the fixture small: skip the huge bundles and reports
				continue
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, b); err != nil {
				log.Fatalf("%s: %v", f, err)
			}
			examples = append(examples, buf.Bytes())
		}
	}
	writeGz("testdata/examples.json.gz", examples)
}

func readJSON(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func writeGz(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d bytes (%d raw)", path, buf.Len(), len(b))
}
