package conformance

import (
	"encoding/json"
	"testing"
)

// The statement names the implementation guide the wiring sets.
func TestCapabilityImplementationGuide(t *testing.T) {
	old := ImplementationGuides
	defer func() { ImplementationGuides = old }()
	ImplementationGuides = []string{"https://fhir.aitgw.org/ig/ait/ImplementationGuide/aitgw.fhir.ait"}
	var cs struct{ ImplementationGuide []string }
	if err := json.Unmarshal((&Server{}).CapabilityStatement(), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs.ImplementationGuide) != 1 || cs.ImplementationGuide[0] != ImplementationGuides[0] {
		t.Errorf("implementationGuide = %v", cs.ImplementationGuide)
	}
}
