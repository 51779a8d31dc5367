package smart

import (
	_ "embed"
	"encoding/json"
	"slices"
)

// compartmentJSON is the R4 patient CompartmentDefinition (hl7.fhir.r4.examples@4.0.1,
// CompartmentDefinition-patient.json) reduced to type -> search params with:
//
//	jq -c '[.resource[]|select(.param)|{key:.code,value:.param}]|from_entries'
//
//go:embed compartment_patient.json
var compartmentJSON []byte

// patientCompartment is compartmentJSON decoded once.
var patientCompartment = func() map[string][]string {
	m := map[string][]string{}
	if err := json.Unmarshal(compartmentJSON, &m); err != nil {
		panic("smart: embedded compartment table is corrupt: " + err.Error()) // build-time data
	}
	return m
}()

// CompartmentParams returns the search parameters that link resources of
// resourceType to a Patient in the R4 patient compartment: a resource is in patient
// P's compartment when one of them references Patient/P. nil means the type is not in
// the compartment (reference data such as Medication or Practitioner). For Patient
// itself the list starts with "_id" (the patient is in its own compartment) followed
// by the definition's "link".
//
// The gateway extends the R4 definition with the types of compartmentExtension (an
// implanted Device names its patient): see ConfinementTable.
func CompartmentParams(resourceType string) []string {
	ps, ok := patientCompartment[resourceType]
	if !ok {
		return slices.Clone(compartmentExtension[resourceType].Params)
	}
	if resourceType == "Patient" {
		return append([]string{"_id"}, ps...)
	}
	return slices.Clone(ps)
}
