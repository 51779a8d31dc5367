package profiles

import (
	"encoding/json"
	"sync"
)

// primitiveForms says, in words, what each R4 primitive type with a pattern looks
// like: an error about a malformed value says this, not the schema's regular
// expression, which a sender cannot be expected to read.
var primitiveForms = map[string]string{
	"date":         "a date: YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2026-03-17)",
	"dateTime":     "a date and time: YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss with a time zone (e.g. 2026-03-17T14:00:00+01:00)",
	"instant":      "an instant: YYYY-MM-DDThh:mm:ss[.sss] with a time zone (e.g. 2026-03-17T14:00:00Z)",
	"time":         "a time of day: hh:mm:ss (e.g. 14:00:00)",
	"id":           "an id: 1 to 64 letters, digits, '-' or '.'",
	"code":         "a code: no leading or trailing white space, no double spaces",
	"uri":          "a URI without white space",
	"url":          "a URL without white space",
	"canonical":    "a canonical URL without white space",
	"oid":          "an OID: urn:oid: followed by dotted numbers",
	"uuid":         "a UUID: urn:uuid: followed by 8-4-4-4-12 hexadecimal digits",
	"decimal":      "a decimal number (e.g. 12.50)",
	"integer":      "an integer (e.g. 42)",
	"positiveInt":  "a positive integer (1 or more)",
	"unsignedInt":  "an integer of 0 or more",
	"base64Binary": "base64 content",
	"string":       "a string without control characters",
	"markdown":     "markdown text",
}

var (
	patternTypesOnce sync.Once
	patternTypes     map[string]string // the schema's pattern → the primitive type
)

// describePattern returns what a value matching an R4 schema pattern looks like, in
// words ("" for a pattern that belongs to no primitive type).
func (b *baseSchemas) describePattern(pattern string) string {
	patternTypesOnce.Do(func() {
		patternTypes = map[string]string{}
		defs, err := b.definitions()
		if err != nil {
			return
		}
		for typ := range primitiveForms {
			var def struct{ Pattern string }
			if raw, ok := defs[typ]; ok && json.Unmarshal(raw, &def) == nil && def.Pattern != "" {
				patternTypes[def.Pattern] = typ
			}
		}
	})
	return primitiveForms[patternTypes[pattern]]
}
