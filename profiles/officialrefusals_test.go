package profiles

// knownRefusals explains the official R4 examples the validator refuses, by rule: an
// example is explained when every error it gets matches one of these rules. Each is
// invalid R4 by the rule named (the examples were published without HL7's current
// validator checking them). TestOfficialExamplesBaseR4 fails on an unexplained refusal
// and on a rule no example breaks any more.
var knownRefusals = map[string]string{
	"base R4 narrative (txt-1): <img src> must reference": "about 100 core StructureDefinitions draw their " +
		"tables with relative images (tbl_spacer.png, icon_element.gif): references outside the resource, " +
		"refused in a narrative as the issue asks (only #id and data: images)",
	"is required (minimum cardinality 1), as a value or an extension": "SearchParameter examples without base, " +
		"a Questionnaire item without linkId, an ImplementationGuide without name: min 1 in base R4",
	"base R4 narrative (txt-2)": "four examples have an empty narrative div (txt-2: some non-whitespace content)",
	"base R4 ext-1":             "extensions with both a value and extensions (ext-1)",
	"base R4 sdf-4":             "non-abstract StructureDefinitions without baseDefinition (sdf-4)",
	"does not end with the resource's type and id": "Bundle entries whose RESTful fullUrl names another id " +
		"(HL7's validator: BUNDLE_ENTRY_URL_MATCHES_TYPE_ID)",
	"base R4 bdl-7":                    "Bundle-dataelements repeats fullUrls (bdl-7)",
	"entry 6769 has the same identity": "Bundle-dataelements repeats fullUrls (bdl-7)",
	"id must match":                    "an id longer than 64 characters (refused before this work too)",
}
