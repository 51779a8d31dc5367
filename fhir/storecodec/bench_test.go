package storecodec

import (
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// BenchmarkRecordRoundTrip encodes and decodes a typical small version, the work of
// every write and read of either backend.
func BenchmarkRecordRoundTrip(b *testing.B) {
	r := &fhir.Record{Type: "Observation", ID: "o1", Version: 2, LastUpdated: suiteTime, Method: "PUT",
		Body: []byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"valueInteger":6}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRecord(r.Type, r.ID, r.Version, EncodeRecord(r)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckPut checks and sorts a resource's index entries.
func BenchmarkCheckPut(b *testing.B) {
	r := &fhir.Record{Type: "Observation", ID: "o1", Version: 1}
	index := []fhir.IndexEntry{{Param: "subject", Key: []byte("Patient/p1")}, {Param: "code", Key: []byte("http://loinc.org|72514-3")},
		{Param: "date", Key: []byte("20240314")}, {Param: "code", Key: []byte("72514-3")}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CheckPut(r, index); err != nil {
			b.Fatal(err)
		}
	}
}
