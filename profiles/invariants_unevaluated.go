package profiles

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
