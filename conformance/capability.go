// Package conformance builds the gateway's CapabilityStatement from what the server
// really registers, so that what it advertises and what it does cannot drift apart.
package conformance

import (
	"encoding/json"
	"sort"
	"time"
)

// SearchParam is one advertised search parameter.
type SearchParam struct {
	Name, Type, Definition string
}

// Operation is one advertised operation.
type Operation struct {
	Name, Definition string
	Types            []string
	System           bool
}

// Server describes what the server registers.
type Server struct {
	BaseURL, Software, Version string
	// Types is every resource type served.
	Types []string
	// Interactions are the interaction names routed (read, vread, create, update,
	// patch, delete, search-type, history-instance, history-type, history-system,
	// batch, conditional-…).
	Interactions []string
	// SearchParams returns the search parameters of a type.
	SearchParams func(typ string) []SearchParam
	Operations   []Operation
	// Profiles are supported profiles per type (canonical URLs).
	Profiles map[string][]string
	// Security, when set, is the rest.security element (SMART).
	Security json.RawMessage
	// Extra are more members of the rest element.
	Extra map[string]json.RawMessage
	// ResourceExtensions are the extensions of a type's rest.resource entry (the
	// Subscription topics of the R4 Backport IG).
	ResourceExtensions map[string]json.RawMessage
	// RecordedOnly are the types the server writes itself and never changes (the
	// audit trail): read and searched, never written by a client.
	RecordedOnly map[string]bool
}

// ImplementationGuides are the canonical URLs of the implementation guides the
// server implements (implementationGuide of the statement). The guide is one per
// process, set at start by the wiring before the statement is first rendered.
var ImplementationGuides []string

// readInteractions are the interactions of a type clients only read.
var readInteractions = map[string]bool{"read": true, "vread": true, "history-instance": true, "history-type": true, "search-type": true}

type code struct {
	Code string `json:"code"`
}

// CapabilityStatement renders the statement.
func (s *Server) CapabilityStatement() []byte {
	have := map[string]bool{}
	for _, i := range s.Interactions {
		have[i] = true
	}
	var typeInter []code
	for _, i := range []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"} {
		if have[i] {
			typeInter = append(typeInter, code{i})
		}
	}
	types := append([]string(nil), s.Types...)
	sort.Strings(types)
	var resources []map[string]any
	for _, t := range types {
		r := map[string]any{
			"type":              t,
			"interaction":       typeInter,
			"versioning":        "versioned-update",
			"readHistory":       true,
			"updateCreate":      true,
			"conditionalCreate": have["create"],
			"conditionalRead":   "not-supported",
			"conditionalUpdate": have["conditional-update"],
			"conditionalDelete": map[bool]string{true: "single", false: "not-supported"}[have["conditional-delete"]],
			"referencePolicy":   []string{"literal", "logical"},
			"searchInclude":     []string{"*"},
			"searchRevInclude":  []string{"*"},
		}
		if s.SearchParams != nil {
			var sps []map[string]string
			for _, p := range s.SearchParams(t) {
				sps = append(sps, map[string]string{"name": p.Name, "type": p.Type, "definition": p.Definition})
			}
			if len(sps) > 0 {
				r["searchParam"] = sps
			}
		}
		var ops []map[string]string
		for _, o := range s.Operations {
			for _, ot := range o.Types {
				if ot == t || ot == "Resource" { // an operation on Resource ($validate) applies to every type
					ops = append(ops, map[string]string{"name": o.Name, "definition": o.Definition})
				}
			}
		}
		if len(ops) > 0 {
			r["operation"] = ops
		}
		if s.RecordedOnly[t] {
			var read []code
			for _, c := range typeInter {
				if readInteractions[c.Code] {
					read = append(read, c)
				}
			}
			r["interaction"], r["versioning"], r["updateCreate"] = read, "versioned", false
			r["conditionalCreate"], r["conditionalUpdate"], r["conditionalDelete"] = false, false, "not-supported"
		}
		if p := s.Profiles[t]; len(p) > 0 {
			r["supportedProfile"] = p
		}
		if x := s.ResourceExtensions[t]; x != nil {
			r["extension"] = x
		}
		resources = append(resources, r)
	}
	var sysInter []code
	for _, i := range []string{"transaction", "batch", "history-system"} {
		if have[i] || (have["batch"] && i == "transaction") {
			sysInter = append(sysInter, code{i})
		}
	}
	rest := map[string]any{"mode": "server", "resource": resources, "interaction": sysInter}
	var sysOps []map[string]string
	for _, o := range s.Operations {
		if o.System {
			sysOps = append(sysOps, map[string]string{"name": o.Name, "definition": o.Definition})
		}
	}
	if len(sysOps) > 0 {
		rest["operation"] = sysOps
	}
	if s.Security != nil {
		rest["security"] = s.Security
	}
	for k, v := range s.Extra {
		rest[k] = v
	}
	cs := map[string]any{
		"resourceType":   "CapabilityStatement",
		"status":         "active",
		"date":           time.Now().UTC().Format("2006-01-02"),
		"kind":           "instance",
		"software":       map[string]string{"name": s.Software, "version": s.Version},
		"implementation": map[string]string{"description": "AIT Gateway: FHIR R4 gateway for the intrathecal analgesia pathway", "url": s.BaseURL},
		"fhirVersion":    "4.0.1",
		"format":         []string{"application/fhir+json", "json"},
		"patchFormat":    []string{"application/json-patch+json"},
		"rest":           []any{rest},
	}
	if len(ImplementationGuides) > 0 {
		cs["implementationGuide"] = ImplementationGuides
	}
	out, _ := json.Marshal(cs) // maps of strings: cannot fail
	return out
}
