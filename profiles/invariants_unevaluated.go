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
var holdsWithoutEvaluation = map[string]func(val any) bool{
	"ref-1": func(val any) bool {
		ref, ok := field(val, "reference").(string)
		return ok && !strings.HasPrefix(ref, "#")
	},
}
