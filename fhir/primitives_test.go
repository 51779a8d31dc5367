package fhir

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The hand-written checks must agree with the base R4 patterns on every input: the
// boundary cases below, then random mutations of valid values.
func TestValidInstantMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(InstantPattern)
	cases := []string{
		"2026-11-29T20:47:09Z", "2026-11-29T20:47:09.123456Z", "2026-11-29T20:47:09+01:00", "2026-11-29T20:47:09-14:00",
		"2026-11-29T20:47:09+14:00", "2026-11-29T20:47:09+14:01", "2026-11-29T20:47:09+13:59", "2026-11-29T20:47:09+13:60",
		"0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1000-01-01T00:00:00Z", "0100-12-31T23:59:60Z",
		"2026-00-01T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z",
		"2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z", "2026-01-01T00:00:00.Z",
		"2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00z", "2026-01-01T00:00:00ZZ",
		"2026-01-01T00:00:00+0100", "2026-01-01", "", "Z", "2026-01-01T00:00:00.5+05:30",
	}
	check := func(s string) {
		if got, want := ValidInstant(s), re.MatchString(s); got != want {
			t.Errorf("ValidInstant(%q) = %v, the R4 pattern says %v", s, got, want)
		}
	}
	for _, s := range cases {
		check(s)
	}
	alphabet := []byte("0123456789-:T.Z+ z")
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		b := []byte(cases[r.IntN(len(cases))])
		for range 1 + r.IntN(3) {
			switch i := r.IntN(len(b) + 1); r.IntN(3) {
			case 0:
				if i < len(b) {
					b[i] = alphabet[r.IntN(len(alphabet))]
				}
			case 1:
				b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
			default:
				if i < len(b) {
					b = append(b[:i], b[i+1:]...)
				}
			}
		}
		check(string(b))
	}
}

func TestValidIDMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(IDPattern)
	long := "a123456789012345678901234567890123456789012345678901234567890123"
	for _, s := range []string{"", "a", "A-z.0", long[:64], long + "4", "a b", "a/b", "é", "a_b", "a\n", "0195f3c2-8d1e-7abc-9def-0123456789ab"} {
		if got, want := ValidID(s), re.MatchString(s); got != want {
			t.Errorf("ValidID(%q) = %v, the R4 pattern says %v", s, got, want)
		}
	}
	for c := range 256 {
		s := "ab" + string([]byte{byte(c)})
		if got, want := ValidID(s), re.MatchString(s); got != want {
			t.Errorf("ValidID(%q) = %v, the R4 pattern says %v", s, got, want)
		}
	}
}
