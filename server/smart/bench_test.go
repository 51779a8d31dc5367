package smart

import "testing"

// BenchmarkVerify measures the per-request cost of checking an RS256 access token.
func BenchmarkVerify(b *testing.B) {
	e := newEnv(b)
	tok, err := signAccess(e.keys, e.cfg, tokenContext{ClientID: "app", Scope: "patient/*.rs", Patient: "p1"}, DefaultAccessTTL, e.auth.now())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.ver.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
