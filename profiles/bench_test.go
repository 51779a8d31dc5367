package profiles

import (
	"context"
	"testing"
)

// BenchmarkValidateExample: full validation (base R4 schema + profile, references
// resolved through the examples) of each profile's example.
func BenchmarkValidateExample(b *testing.B) {
	v := testValidator(b)
	res := exampleResolver(v.Package())
	seen := map[string]bool{}
	for _, ex := range v.Package().Examples() {
		url := profileOfOrEmpty(ex.Body)
		if url == "" || seen[url] {
			continue
		}
		seen[url] = true
		v.ValidateWith(context.Background(), res, ex.Body) // compile the type's schema outside the timing
		b.Run(ex.Type+"/"+ex.ID, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if oo := v.ValidateWith(context.Background(), res, ex.Body); oo.HasErrors() {
					b.Fatal(dump(oo))
				}
			}
		})
	}
}

// BenchmarkValidateReferralBundle50: a 50-entry transaction Bundle of the referral,
// its dossier and the pathway, references resolved inside the Bundle.
func BenchmarkValidateReferralBundle50(b *testing.B) {
	v := testValidator(b)
	body, _ := referralBundle(b, v, 50)
	v.Validate(body)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if oo := v.Validate(body); oo.HasErrors() {
			b.Fatal(dump(oo))
		}
	}
}

func profileOfOrEmpty(body []byte) string {
	claims, _ := field(field(decodeJSON(body), "meta"), "profile").([]any)
	if len(claims) == 0 {
		return ""
	}
	s, _ := claims[0].(string)
	return s
}
