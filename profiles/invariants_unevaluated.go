package profiles

import "strings"

// unevaluatedInvariants are the base R4 invariants the validator does not evaluate
// with the FHIRPath engine, each with the reason. Invariants the engine cannot
// compile are added at load (compileBaseInvariant). TestBaseInvariantsListed pins
// this list; the server logs it at start.
var unevaluatedInvariants = map[string]string{
	// txt-1 and txt-2 use htmlChecks(), which FHIRPath leaves to the validator.
	"txt-1": nativelyEnforced + " (checkNarrative: allowed elements and attributes, no scripts, no external images)",
	"txt-2": nativelyEnforced + " (checkNarrative: non-whitespace content)",
	// gofhir refuses these regular expressions at run time ("potentially dangerous
	// regex: consecutive quantifiers"), its ReDoS guard, which is worth keeping.
	"eld-19": "the engine refuses its regex at run time (ReDoS guard: consecutive quantifiers)",
	"eld-20": "the engine refuses its regex at run time (ReDoS guard: consecutive quantifiers)",
}

// nativelyEnforced starts the reason of an invariant the validator enforces in Go.
const nativelyEnforced = "enforced natively"

// rewrittenInvariants are base R4 invariants evaluated through an equivalent
// expression the engine runs faster: bdl-3 and bdl-4 read %resource.type once per
// entry, which cost most of a 50-entry Bundle's validation; on the Bundle root
// %resource is the Bundle, so the type test can be hoisted out of all().
// TestRewrittenInvariantsEquivalent checks both forms agree on Bundles of every type.
var rewrittenInvariants = map[string]string{
	"bdl-3": "iif(type = 'batch' or type = 'transaction' or type = 'history', entry.all(request.exists()), entry.all(request.empty()))",
	"bdl-4": "iif(type = 'batch-response' or type = 'transaction-response' or type = 'history', entry.all(response.exists()), entry.all(response.empty()))",
}

// holdsWithoutEvaluation says, for some invariants, that the instance satisfies it
// without running FHIRPath: ref-1 ("reference.startsWith('#').not() or …") is true for
// every reference that is not local, which is nearly all of them, and its right side
// reads the whole resource. TestHoldsWithoutEvaluation checks the shortcut against
// the engine.
//
// dom-3 reads %resource.descendants() four times per contained resource (4 ms on a
// referral with contained resources); it holds when each contained resource's "#id"
// is some Reference.reference of the resource. dom-6 holds when text.div is there;
// bdl-5 when the entry has a resource, request or response; bdl-8 when fullUrl does
// not name a version; the Bundle's rules bdl-1…4, 7, 9…12 by its type and entries as
// their expressions say. TestShortcutsAgreeWithEngine compares every shortcut with
// the engine.
var holdsWithoutEvaluation = map[string]func(val any) bool{
	"dom-3": func(val any) bool {
		contained, _ := field(val, "contained").([]any)
		if len(contained) == 0 {
			return true
		}
		refs := map[string]bool{}
		collectReferences(val, refs)
		for _, c := range contained {
			id, _ := field(c, "id").(string)
			if id == "" || !refs["#"+id] {
				return false // the engine decides
			}
		}
		return true
	},
	"dom-6": func(val any) bool {
		div, _ := field(field(val, "text"), "div").(string)
		return div != ""
	},
	"bdl-5": func(val any) bool {
		return field(val, "resource") != nil || field(val, "request") != nil || field(val, "response") != nil
	},
	// the Bundle's own rules, read once per Bundle but each a walk of every entry
	"bdl-1": func(val any) bool {
		return field(val, "total") == nil && field(val, "_total") == nil || bundleTypeIn(val, "searchset", "history")
	},
	"bdl-2": func(val any) bool {
		return bundleTypeIn(val, "searchset") || !anyEntryHas(val, "search")
	},
	"bdl-3": func(val any) bool {
		return allEntriesHave(val, "request", bundleTypeIn(val, "batch", "transaction", "history"))
	},
	"bdl-4": func(val any) bool {
		return allEntriesHave(val, "response", bundleTypeIn(val, "batch-response", "transaction-response", "history"))
	},
	"bdl-7": func(val any) bool {
		if bundleTypeIn(val, "history") {
			return true
		}
		entries, _ := field(val, "entry").([]any)
		seen := make(map[string]bool, len(entries))
		for _, e := range entries {
			u, ok := field(e, "fullUrl").(string)
			if !ok {
				continue
			}
			v, _ := field(field(field(e, "resource"), "meta"), "versionId").(string)
			if seen[u+v] { // FHIRPath's &: no separator
				return false
			}
			seen[u+v] = true
		}
		return true
	},
	"bdl-9":  func(val any) bool { return !bundleTypeIn(val, "document") },
	"bdl-10": func(val any) bool { return !bundleTypeIn(val, "document") },
	"bdl-11": func(val any) bool { return !bundleTypeIn(val, "document") },
	"bdl-12": func(val any) bool { return !bundleTypeIn(val, "message") },
	"bdl-8": func(val any) bool {
		u, ok := field(val, "fullUrl").(string)
		return !ok || !strings.Contains(u, "/_history/")
	},
	"ref-1": func(val any) bool {
		ref, ok := field(val, "reference").(string)
		return ok && !strings.HasPrefix(ref, "#")
	},
}

// collectReferences adds to refs every Reference.reference ("reference" string) under v.
func collectReferences(v any, refs map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "reference" {
				refs[s] = true
				continue
			}
			collectReferences(c, refs)
		}
	case []any:
		for _, c := range x {
			collectReferences(c, refs)
		}
	}
}

// bundleTypeIn reports whether the Bundle's type is one of types.
func bundleTypeIn(val any, types ...string) bool {
	t, _ := field(val, "type").(string)
	for _, x := range types {
		if t == x {
			return true
		}
	}
	return false
}

// anyEntryHas reports whether some entry has the element name.
func anyEntryHas(val any, name string) bool {
	entries, _ := field(val, "entry").([]any)
	for _, e := range entries {
		if field(e, name) != nil {
			return true
		}
	}
	return false
}

// allEntriesHave reports whether every entry has name (want) or none has (!want).
func allEntriesHave(val any, name string, want bool) bool {
	entries, _ := field(val, "entry").([]any)
	for _, e := range entries {
		if (field(e, name) != nil) != want {
			return false
		}
	}
	return true
}
