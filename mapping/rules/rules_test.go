package rules

import (
	"testing"
	"time"
)

func TestSpanCalendarArithmetic(t *testing.T) {
	d := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    Span
		want time.Time
		text string
	}{
		{Span{Months: 1}, time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC), "1 month"},
		{Span{Days: 42}, time.Date(2026, 1, 19, 9, 0, 0, 0, time.UTC), "6 weeks"},
		{Span{Hours: 48}, time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC), "48 h"},
		{Span{Days: 15}, time.Date(2026, 2, 15, 9, 0, 0, 0, time.UTC), "15 days"},
	} {
		if got := tc.s.SubFrom(d); !got.Equal(tc.want) || tc.s.String() != tc.text || !tc.s.AddTo(got).Equal(d) {
			t.Errorf("%+v: %s %q", tc.s, got, tc.s.String())
		}
	}
}

func TestDefaultConfigIsTheReferentialThreshold(t *testing.T) {
	if DefaultConfig().OMEThreshold != 300 || OMEThreshold001.Value != 200 {
		t.Errorf("thresholds: %v %v", DefaultConfig(), OMEThreshold001)
	}
}

func TestCiteNamesTheDocumentByTitle(t *testing.T) {
	if got := Cite("000 §VI, §VII"); got != "Référentiel régional AIT §VI, §VII" {
		t.Fatalf("Cite = %q", got)
	}
	if got := Cite("003 annex 4"); got != "Référentiel régional RI annex 4" {
		t.Fatalf("Cite = %q", got)
	}
	if got := Cite("999 §I"); got != "999 §I" {
		t.Fatalf("unknown citation rewritten: %q", got)
	}
}

func TestCiteTextNamesTheDocumentBesideTheCode(t *testing.T) {
	for in, want := range map[string]string{
		"refill interval out of range (000 §XIII)": "refill interval out of range (Référentiel régional AIT, 000 §XIII)",
		"due 2026-01-01 (000 §VI, §VII)":           "due 2026-01-01 (Référentiel régional AIT, 000 §VI, §VII)",
		"Mirels 9 (003 annex 4)":                   "Mirels 9 (Référentiel régional RI, 003 annex 4)",
		"no citation, 2000 §V is not one":          "no citation, 2000 §V is not one",
		"two: 000 §V and 001 §II":                  "two: Référentiel régional AIT, 000 §V and Revue Médicale Suisse, voie intrathécale, 001 §II",
	} {
		if got := CiteText(in); got != want {
			t.Errorf("CiteText(%q) = %q, want %q", in, got, want)
		}
	}
}
