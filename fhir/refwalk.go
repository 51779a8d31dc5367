package fhir

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// ReferenceAt is one Reference.reference of a resource.
type ReferenceAt struct {
	// Element is the element holding the Reference, without indexes
	// (Observation.subject): what a definition names.
	Element string
	// Expression is the FHIRPath of the reference string, with indexes
	// (Observation.performer[1].reference): what an OperationOutcome names.
	Expression string
	// Value is the reference as written.
	Value string
}

// References lists the Reference.reference strings of a resource of type typ, with
// where they are. Contained resources are walked with their own type as the root of
// Element. body must be valid JSON (a parsed resource).
func References(typ string, body []byte) []ReferenceAt {
	var out []ReferenceAt
	walkRefs(bytes.TrimSpace(body), typ, typ, "", &out)
	return out
}

func walkRefs(raw []byte, elem, expr, key string, out *[]ReferenceAt) {
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '{':
		fl, err := splitObject(raw)
		if err != nil {
			return
		}
		for i, k := range fl.keys {
			v := bytes.TrimSpace(fl.vals[i])
			if k == "reference" && len(v) > 0 && v[0] == '"' {
				var s string
				if json.Unmarshal(v, &s) == nil {
					*out = append(*out, ReferenceAt{Element: elem, Expression: expr + ".reference", Value: s})
				}
				continue
			}
			if k == "contained" && len(v) > 0 && v[0] == '[' {
				for j, c := range splitArray(v) {
					var head struct{ ResourceType string }
					_ = json.Unmarshal(c, &head)
					walkRefs(bytes.TrimSpace(c), head.ResourceType, expr+".contained["+strconv.Itoa(j)+"]", "", out)
				}
				continue
			}
			walkRefs(v, elem+"."+k, expr+"."+k, k, out)
		}
	case '[':
		for j, it := range splitArray(raw) {
			walkRefs(bytes.TrimSpace(it), elem, expr+"["+strconv.Itoa(j)+"]", key, out)
		}
	}
}

// ReferenceType returns the resource type a reference names ("Patient/1",
// "Patient/1/_history/2", "Patient?identifier=…", or an absolute URL under base), or
// "" for one that names none here (a fragment, a urn, another server).
func ReferenceType(ref, base string) string {
	if base != "" && strings.HasPrefix(ref, strings.TrimRight(base, "/")+"/") {
		ref = strings.TrimPrefix(ref, strings.TrimRight(base, "/")+"/")
	}
	if strings.Contains(ref, "://") || strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") {
		return ""
	}
	head := ref
	if i := strings.IndexAny(ref, "/?"); i >= 0 {
		head = ref[:i]
	}
	if IsResourceType(head) {
		return head
	}
	return ""
}
