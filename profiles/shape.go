package profiles

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// checkShape enforces the JSON rules of R4 the schema leaves open: no null value (a
// null is allowed only in a primitive array matched by its "_name" sibling), no empty
// array, no empty object and no element with only an id. The last two are ele-1
// ("All FHIR elements must have a @value or children"), enforced here instead of by
// FHIRPath on every element: TestEle1Equivalence proves the equivalence.
func (r *run) checkShape(v any, expr string, resource bool) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 || !resource && len(x) == 1 && x["id"] != nil {
			r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{expr},
				Diagnostics: "base R4 ele-1: an element must have a value or children (an empty object is not allowed)"})
		}
		for k, val := range x {
			at := expr + "." + k
			switch val := val.(type) {
			case nil:
				r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{at},
					Diagnostics: "base R4: a null value is not allowed (omit the element)"})
			case []any:
				if len(val) == 0 {
					r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{at},
						Diagnostics: "base R4: an empty array is not allowed (omit the element)"})
					continue
				}
				_, sibling := x["_"+k]
				if strings.HasPrefix(k, "_") {
					_, sibling = x[k[1:]]
				}
				for i, it := range val {
					iat := fmt.Sprintf("%s[%d]", at, i)
					if it == nil {
						if !sibling {
							r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "structure", Expression: []string{iat},
								Diagnostics: "base R4: a null in an array is allowed only when the matching item of the _ sibling array is present"})
						}
						continue
					}
					if k == "contained" {
						continue // nested resources are checked on their own
					}
					r.checkShape(it, iat, false)
				}
			case map[string]any:
				if k == "resource" && val["resourceType"] != nil {
					continue // nested resources are checked on their own
				}
				r.checkShape(val, at, false)
			}
		}
	}
}

// checkBundle enforces the Bundle entry rules: fullUrl absolute (or urn:uuid:/urn:oid:),
// agreeing with the resource's type and id, and unique (bdl-7) unless the Bundle is a
// history or the entries are different versions.
func (r *run) checkBundle(node any, expr string) {
	entries, _ := field(node, "entry").([]any)
	bundleType, _ := field(node, "type").(string)
	seen := map[string]int{}
	for i, e := range entries {
		at := fmt.Sprintf("%s.entry[%d]", expr, i)
		res := field(e, "resource")
		typ, _ := field(res, "resourceType").(string)
		id, _ := field(res, "id").(string)
		version, _ := field(field(res, "meta"), "versionId").(string)
		fu, _ := field(e, "fullUrl").(string)
		identity := fu
		if fu != "" {
			if msg := fullURLProblem(fu, typ, id); msg != "" {
				r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "value", Expression: []string{at + ".fullUrl"},
					Diagnostics: "base R4 Bundle: " + msg})
			}
		} else if typ != "" && id != "" && res != nil {
			identity = typ + "/" + id
		}
		if identity == "" || bundleType == "history" {
			continue
		}
		key := identity + "|" + version
		if j, dup := seen[key]; dup {
			r.add(fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule", Expression: []string{at},
				Diagnostics: fmt.Sprintf("base R4 bdl-7: entry %d has the same identity %s as entry %d (fullUrl must be unique in a Bundle, unless the entries are different versions)", i, identity, j)})
			continue
		}
		seen[key] = i
	}
}

// fullURLProblem says what is wrong with an entry's fullUrl, "" if nothing.
func fullURLProblem(fu, typ, id string) string {
	switch {
	case strings.HasPrefix(fu, "urn:uuid:"), strings.HasPrefix(fu, "urn:oid:"):
		return ""
	case strings.HasPrefix(fu, "urn:"):
		return fmt.Sprintf("fullUrl %q: a URN must be urn:uuid: or urn:oid:", fu)
	}
	u, err := url.Parse(fu)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Sprintf("fullUrl %q must be an absolute URL or a urn:uuid:/urn:oid: URN", fu)
	}
	if typ != "" && id != "" && !strings.Contains(fu, "/_history/") && !strings.HasSuffix(fu, "/"+typ+"/"+id) {
		return fmt.Sprintf("fullUrl %q does not end with the resource's type and id (%s/%s)", fu, typ, id)
	}
	return ""
}
