package profiles

// unevaluatedInvariants are the base R4 invariants the validator does not evaluate
// with the FHIRPath engine, each with the reason. Invariants the engine cannot
// compile are added at load (compileBaseInvariant). TestBaseInvariantsListed pins
// this list; the server logs it at start.
var unevaluatedInvariants = map[string]string{
	// txt-1 and txt-2 use htmlChecks(), which FHIRPath leaves to the validator:
	// checkNarrative enforces the R4 XHTML rules natively instead.
	"txt-1": "htmlChecks() is enforced natively by the narrative check (checkNarrative)",
	"txt-2": "htmlChecks() is enforced natively by the narrative check (checkNarrative)",
}
