package profiles

import "testing"

// The id and instant patterns of base R4 are matched by hand (they are checked on
// every audit event): the schema's patterns must be the ones the native matchers
// were written for, and CheckPrimitive must still refuse what they refuse.
func TestCheckPrimitiveNativeMatchers(t *testing.T) {
	v := testValidator(t)
	for _, typ := range []string{"id", "instant"} {
		re, err := v.primitivePattern(typ)
		if err != nil || re == nil {
			t.Fatalf("%s: pattern %v, %v", typ, re, err)
		}
		if nativeMatchers[re.String()] == nil {
			t.Errorf("%s: the base R4 pattern %q has no native matcher: the regexp would run on every audit event", typ, re)
		}
	}
	for _, c := range []struct {
		typ, value string
		ok         bool
	}{
		{"id", "0195f3c2-8d1e-7abc-9def-0123456789ab", true}, {"id", "a/b", false},
		{"instant", "2026-11-29T20:47:09.123Z", true}, {"instant", "2026-11-29T20:47:09", false},
		{"instant", "2026-11-29T20:47:09+14:30", false},
	} {
		if err := v.CheckPrimitive(c.typ, c.value); (err == nil) != c.ok {
			t.Errorf("CheckPrimitive(%s, %q) = %v, want ok=%v", c.typ, c.value, err, c.ok)
		}
	}
}
