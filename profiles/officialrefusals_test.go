package profiles

// knownRefusals explains each official R4 example the validator refuses: each is
// invalid R4 by the rule named (the examples predate or ignore it).
var knownRefusals = map[string]string{}
