package profiles

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sync"

	"github.com/aitgw/aitgw/fhir"
)

// primitivePatterns caches the compiled pattern of each R4 primitive type.
var primitivePatterns sync.Map // type name → *regexp.Regexp (nil: no pattern)

// nativeMatchers match some patterns by hand, where they are checked on every
// request or audit event. Each is used only when the schema's pattern is exactly the
// one it was written for (fhir's tests hold them to the pattern).
var nativeMatchers = map[string]func(string) bool{
	fhir.IDPattern:      fhir.ValidID,
	fhir.InstantPattern: fhir.ValidInstant,
}

// CheckPrimitive reports whether value is valid as the R4 primitive type typ
// ("string", "uri", "code", "id", "instant", "base64Binary"…): the pattern the base
// R4 schema gives that type, compiled as the schema validator compiles it, so that a
// value passes here exactly when Validate would accept it in an element of that type.
// It serves resources the server generates from a validated template, where only
// primitive values vary (the audit trail).
func (v *Validator) CheckPrimitive(typ, value string) error {
	re, err := v.primitivePattern(typ)
	if err != nil {
		return err
	}
	if re != nil && !matches(re, value) {
		if form := v.base.describePattern(re.String()); form != "" {
			return fmt.Errorf("%q is not a valid %s: it must be %s", value, typ, form)
		}
		return fmt.Errorf("%q is not a valid %s", value, typ)
	}
	return nil
}

// matches matches value against re, by hand where a native matcher exists.
func matches(re *regexp.Regexp, value string) bool {
	if m := nativeMatchers[re.String()]; m != nil {
		return m(value)
	}
	return re.MatchString(value)
}

func (v *Validator) primitivePattern(typ string) (*regexp.Regexp, error) {
	if re, ok := primitivePatterns.Load(typ); ok {
		return re.(*regexp.Regexp), nil
	}
	defs, err := v.base.definitions()
	if err != nil {
		return nil, err
	}
	raw, ok := defs[typ]
	if !ok {
		return nil, fmt.Errorf("base R4 has no primitive type %s", typ)
	}
	var def struct {
		Pattern string `json:"pattern"`
		Type    string `json:"type"`
	}
	if err := json.Unmarshal(raw, &def); err != nil || def.Type != "string" {
		return nil, fmt.Errorf("base R4 type %s is not a string primitive", typ)
	}
	var re *regexp.Regexp
	if def.Pattern != "" {
		if re, err = regexp.Compile(def.Pattern); err != nil {
			return nil, fmt.Errorf("base R4 pattern of %s: %w", typ, err)
		}
	}
	primitivePatterns.Store(typ, re)
	return re, nil
}
