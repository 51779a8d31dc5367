package fhir

import "fmt"

// ReadView decodes a stored record into a typed model (github.com/samply/
// golang-fhir-models, whose Unmarshal functions are passed as decode): a view to read
// fields with their R4 types, never to write back. The record stays the JSON as
// submitted; the models drop contained resources, primitive extensions and unknown
// elements, which is harmless for reading and would be data loss if re-marshalled.
// A record of another type than want is refused: the models decode any resource into
// any type without error.
func ReadView[T any](rec *Record, want string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	switch {
	case rec == nil || rec.Deleted:
		return zero, fmt.Errorf("read view of %s: no resource", want)
	case rec.Type != want:
		return zero, fmt.Errorf("read view of %s: the record is a %s", want, rec.Type)
	}
	return decode(rec.Body)
}
