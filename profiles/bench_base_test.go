package profiles

import (
	"sort"
	"testing"
	"time"
)

// smallPatient is a small resource as EHRs post them: identifier, name, gender,
// birth date, address, telecom, narrative.
const smallPatient = `{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Jeanne Martin</div>"},
"identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"2800112345678"}],"active":true,
"name":[{"family":"Martin","given":["Jeanne"]}],"telecom":[{"system":"phone","value":"0102030405","use":"home"}],
"gender":"female","birthDate":"1980-01-12","address":[{"line":["1 rue de la Paix"],"city":"Lyon","postalCode":"69001","country":"FR"}]}`

// BenchmarkValidateSmallResource: base R4 validation (schema, base model walk,
// invariants) of a small Patient; reports the median and the 99th percentile.
func BenchmarkValidateSmallResource(b *testing.B) {
	v := testValidator(b)
	body := []byte(smallPatient)
	if oo := v.Validate(body); oo.HasErrors() {
		b.Fatal(dump(oo))
	}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		v.Validate(body)
		times = append(times, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
}
