package fhir

// InstantPattern is the R4 instant datatype's pattern, as the base R4 JSON schema
// writes it.
const InstantPattern = `^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`

// ValidInstant reports whether s matches InstantPattern, by hand: the audit trail
// checks the instant of every event it writes, and the regexp cost more than the rest
// of the check (TestValidInstantMatchesPattern holds the two together).
func ValidInstant(s string) bool {
	// YYYY-MM-DDThh:mm:ss is 19 bytes, then [.fraction] and Z or ±hh:mm
	if len(s) < 20 {
		return false
	}
	if !digits(s[:4]) || s[:4] == "0000" || s[4] != '-' || !between(s[5:7], "01", "12") || s[7] != '-' ||
		!between(s[8:10], "01", "31") || s[10] != 'T' || !between(s[11:13], "00", "23") || s[13] != ':' ||
		!between(s[14:16], "00", "59") || s[16] != ':' || !between(s[17:19], "00", "60") {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		return rest[1:] == "14:00" || between(rest[1:3], "00", "13") && between(rest[4:6], "00", "59")
	}
	return false
}

// digits reports whether s is ASCII digits only.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// between reports whether the two digits s lie from lo to hi (two digits each).
func between(s, lo, hi string) bool { return digits(s) && s >= lo && s <= hi }
