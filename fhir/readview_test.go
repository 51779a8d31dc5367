package fhir_test

import (
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/aitgw/aitgw/fhir"
)

// TestReadView: a typed view reads the fields of its type, and refuses a record of
// another type, which the models would decode into an empty Patient without error.
func TestReadView(t *testing.T) {
	p, err := fhir.ReadView(&fhir.Record{Type: "Patient", ID: "p", Body: []byte(`{"resourceType":"Patient","id":"p","birthDate":"1950-01-02","name":[{"family":"Martin","given":["Anne"]}]}`)},
		"Patient", models.UnmarshalPatient)
	if err != nil || p.BirthDate == nil || *p.BirthDate != "1950-01-02" || *p.Name[0].Family != "Martin" {
		t.Fatalf("view %+v, %v", p, err)
	}
	obs := &fhir.Record{Type: "Observation", ID: "o", Body: []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"}}`)}
	if _, err := models.UnmarshalPatient(obs.Body); err != nil {
		t.Fatalf("the models now refuse an Observation as a Patient (%v): the guard may go", err)
	}
	if _, err := fhir.ReadView(obs, "Patient", models.UnmarshalPatient); err == nil {
		t.Error("an Observation read as a Patient")
	}
	if _, err := fhir.ReadView(&fhir.Record{Type: "Patient", ID: "p", Deleted: true}, "Patient", models.UnmarshalPatient); err == nil {
		t.Error("a tombstone read as a Patient")
	}
}
