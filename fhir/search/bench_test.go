package search

import (
	"testing"

	"github.com/aitgw/aitgw/conformance/benchcpu"
)

var benchPatient = []byte(`{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","lastUpdated":"2024-05-01T08:00:00Z"},
 "active":true,"gender":"female","birthDate":"1950-03-12",
 "identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"1500312345678"},{"system":"urn:ipp","value":"IPP1"}],
 "name":[{"use":"official","family":"Dupont","given":["Hélène","Marie"]}],
 "telecom":[{"system":"phone","value":"0600000000"}],"address":[{"line":["1 rue de la Paix"],"city":"Lyon","postalCode":"69003","country":"FR"}],
 "generalPractitioner":[{"reference":"Practitioner/dr1"}],"managingOrganization":{"reference":"Organization/org1"}}`)

var benchObservation = []byte(`{"resourceType":"Observation","id":"o1","meta":{"versionId":"1","lastUpdated":"2024-05-01T08:00:00Z"},
 "status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"survey"}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":"72514-3","display":"Pain severity"}]},
 "subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},"effectiveDateTime":"2024-03-10T10:00:00Z",
 "performer":[{"reference":"Practitioner/dr1"}],"valueQuantity":{"value":7,"system":"http://unitsofmeasure.org","code":"{score}"}}`)

// benchIndex measures Index on one resource with the native walk, then with
// FHIRPath only (the same code without native.go).
func benchIndex(b *testing.B, typ string, body []byte) {
	b.Run("native", func(b *testing.B) { benchIndexWith(b, newTestRegistry(b), typ, body) })
	b.Run("fhirpath", func(b *testing.B) { benchIndexWith(b, fhirpathRegistry(b), typ, body) })
}

// benchIndexWith measures r.Index on one resource.
func benchIndexWith(b *testing.B, r *Registry, typ string, body []byte) {
	if _, err := r.Index(typ, body); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchcpu.Process()
	for i := 0; i < b.N; i++ {
		if _, err := r.Index(typ, body); err != nil {
			b.Fatal(err)
		}
	}
	benchcpu.Report(b, cpu)
}

// BenchmarkIndexPatient measures the index extraction of one create.
func BenchmarkIndexPatient(b *testing.B) { benchIndex(b, "Patient", benchPatient) }

// BenchmarkIndexObservation measures the index extraction of one create.
func BenchmarkIndexObservation(b *testing.B) { benchIndex(b, "Observation", benchObservation) }

// The resources of aitgw bench's reference write workload, as stored.
var (
	benchReferencePatient     = []byte(`{"resourceType":"Patient","id":"0193a0b0-0000-7000-8000-000000000002","meta":{"versionId":"1","lastUpdated":"2026-01-01T10:00:00.123Z"},"gender":"female","birthDate":"1950-03-12"}`)
	benchReferenceObservation = []byte(`{"resourceType":"Observation","id":"0193a0b0-0000-7000-8000-000000000001","meta":{"versionId":"1","lastUpdated":"2026-01-01T10:00:00.123Z"},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/0193a0b0-0000-7000-8000-000000000002"},"effectiveDateTime":"2026-01-01T10:00:00Z","valueQuantity":{"value":120,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`)
)

// BenchmarkIndexReference measures the index extraction of the reference write
// workload's transaction: its Patient and its Observation.
func BenchmarkIndexReference(b *testing.B) {
	b.Run("native", func(b *testing.B) { benchIndexReference(b, newTestRegistry(b)) })
	b.Run("fhirpath", func(b *testing.B) { benchIndexReference(b, fhirpathRegistry(b)) })
}

// benchIndexReference measures r.Index on the reference transaction's resources.
func benchIndexReference(b *testing.B, r *Registry) {
	b.ReportAllocs()
	cpu := benchcpu.Process()
	for b.Loop() {
		if _, err := r.Index("Patient", benchReferencePatient); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Index("Observation", benchReferenceObservation); err != nil {
			b.Fatal(err)
		}
	}
	benchcpu.Report(b, cpu)
}

// benchGroup is one patient's group of resources in aitgw bench's scale mode
// (conformance/bench/population.go), as stored: a Patient, 8 Observations, 2
// Conditions and 2 MedicationRequests.
var benchGroup = func() (out []struct {
	typ  string
	body []byte
}) {
	add := func(typ, body string) {
		out = append(out, struct {
			typ  string
			body []byte
		}{typ, []byte(body)})
	}
	meta := `"meta":{"versionId":"1","lastUpdated":"2026-01-01T10:00:00.123Z"}`
	add("Patient", `{"resourceType":"Patient","id":"p1",`+meta+`,"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Marie Martin</div>"},`+
		`"identifier":[{"use":"official","system":"urn:oid:1.2.250.1.71.4.2.7","value":"run-0000042"}],"active":true,`+
		`"name":[{"use":"official","family":"Martin","given":["Marie"]}],"telecom":[{"system":"phone","value":"+33 1 02 03 04 05","use":"home"}],`+
		`"gender":"female","birthDate":"1961-04-12","address":[{"use":"home","line":["12 rue de la République"],"city":"Lyon","postalCode":"69002","country":"FR"}]}`)
	for range 8 {
		add("Observation", `{"resourceType":"Observation","id":"o1",`+meta+`,"status":"final",`+
			`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}]}],`+
			`"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}],"text":"Systolic blood pressure"},"subject":{"reference":"Patient/p1"},`+
			`"effectiveDateTime":"2023-02-03T04:00:00Z","issued":"2023-02-03T04:00:00Z",`+
			`"valueQuantity":{"value":128,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`)
	}
	for range 2 {
		add("Condition", `{"resourceType":"Condition","id":"c1",`+meta+`,`+
			`"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},`+
			`"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},`+
			`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],`+
			`"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertension"}],"text":"Hypertension"},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2022-03-04","recordedDate":"2022-03-04"}`)
	}
	for range 2 {
		add("MedicationRequest", `{"resourceType":"MedicationRequest","id":"m1",`+meta+`,"status":"active","intent":"order",`+
			`"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02BE01","display":"paracetamol"}],"text":"paracetamol"},`+
			`"subject":{"reference":"Patient/p1"},"authoredOn":"2022-05-06","dosageInstruction":[{"text":"1 g every 6 hours"}]}`)
	}
	return out
}()

// BenchmarkIndexScaleGroup measures the index extraction of one group of the scale
// mode's load (13 resources per operation), natively and with FHIRPath only.
func BenchmarkIndexScaleGroup(b *testing.B) {
	for _, mode := range []struct {
		name string
		reg  func(testing.TB) *Registry
	}{{"native", newTestRegistry}, {"fhirpath", fhirpathRegistry}} {
		b.Run(mode.name, func(b *testing.B) {
			r := mode.reg(b)
			b.ReportAllocs()
			cpu := benchcpu.Process()
			for b.Loop() {
				for _, x := range benchGroup {
					if _, err := r.Index(x.typ, x.body); err != nil {
						b.Fatal(err)
					}
				}
			}
			benchcpu.Report(b, cpu)
		})
	}
}
