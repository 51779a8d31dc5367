package smart

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

var updateConfinementDoc = flag.Bool("update-confinement-doc", false, "rewrite CONFINEMENT.md from the table")

// TestConfinementCoversEveryType: every R4 resource type has a confinement class,
// every type of the R4 Patient CompartmentDefinition is confined by its parameters,
// and the classes agree with what the access layer enforces.
func TestConfinementCoversEveryType(t *testing.T) {
	all := fhir.ResourceTypes()
	if len(all) != 146 {
		t.Fatalf("%d R4 resource types, want 146", len(all))
	}
	for _, typ := range all {
		c := ConfinementOf(typ)
		if c.Class == "" {
			t.Errorf("%s has no confinement: add it to server/smart/confinement.go", typ)
		}
	}
	for typ, params := range patientCompartment {
		if !fhir.IsResourceType(typ) {
			t.Errorf("compartment type %s is not an R4 resource type", typ)
		}
		c := ConfinementOf(typ)
		if c.Class != ClassCompartment && c.Class != ClassAudit {
			t.Errorf("%s is in the R4 patient compartment but classed %q", typ, c.Class)
		}
		for _, p := range params {
			if !slices.Contains(c.Params, p) {
				t.Errorf("%s: compartment parameter %s missing from the table", typ, p)
			}
		}
	}
	// each explicit list names real types, once
	seen := map[string]string{}
	add := func(list string, typ string) {
		if !fhir.IsResourceType(typ) {
			t.Errorf("%s lists %q, not an R4 type", list, typ)
		}
		if prev, ok := seen[typ]; ok {
			t.Errorf("%s is in both %s and %s", typ, prev, list)
		}
		seen[typ] = list
	}
	for _, typ := range referenceTypes {
		add("referenceTypes", typ)
	}
	for typ := range systemOnlyTypes {
		add("systemOnlyTypes", typ)
	}
	for typ := range compartmentExtension {
		add("compartmentExtension", typ)
		if patientCompartment[typ] != nil {
			t.Errorf("%s extends the compartment but is in it already", typ)
		}
	}
	for typ := range publicTypes {
		add("publicTypes", typ)
	}
	// enforcement agrees with the table
	acc := (&Grant{}).Access()
	for _, c := range ConfinementTable() {
		params := acc.CompartmentParams(c.Type)
		switch c.Class {
		case ClassSystemOnly:
			if params == nil || len(params) != 0 {
				t.Errorf("%s is system-only but the access layer gives parameters %v", c.Type, params)
			}
		case ClassReference, ClassPublic, ClassOwned:
			if params != nil {
				t.Errorf("%s (%s) has compartment parameters %v", c.Type, c.Class, params)
			}
		default:
			if len(params) == 0 {
				t.Errorf("%s (%s) has no compartment parameters", c.Type, c.Class)
			}
		}
	}
	if c := ConfinementOf("Subscription"); c.Class != ClassOwned || !slices.Contains(c.Secrets, "channel.header") {
		t.Errorf("Subscription: %+v", c)
	}
}

// TestConfinementDocIsCurrent: CONFINEMENT.md is the table as generated (go generate
// ./server/smart rewrites it).
func TestConfinementDocIsCurrent(t *testing.T) {
	want := ConfinementMarkdown()
	if *updateConfinementDoc {
		if err := os.WriteFile("CONFINEMENT.md", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("CONFINEMENT.md")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("server/smart/CONFINEMENT.md is not current (%v): run go generate ./server/smart", err)
	}
}
