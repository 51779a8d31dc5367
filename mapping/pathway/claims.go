package pathway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// entryIndex reads the entry an issue's expression points at.
var entryIndex = regexp.MustCompile(`^Bundle\.entry\[(\d+)\]`)

// maxWithdrawRounds bounds claimOnlyWhatIsMet: withdrawing one entry's claim can make
// an entry referring to it fail its own reference-target rule, and so on.
const maxWithdrawRounds = 6

// claimOnlyWhatIsMet validates the intake's transaction as the gateway will, and
// withdraws each AIT profile the intake assigned to a resource that does not meet it
// (the EHR sent less than the profile asks: no RPPS number, no report conclusion…).
// That entry is then stored as sent, and the reasons are reported as warnings: the
// referral goes through, and the dossier status says what is missing (000 §V).
// Profiles the sender claimed itself are never withdrawn: its claim is checked on
// write like any other. valid reports that the Bundle returned was validated as it
// stands and had no error, so the transaction need not validate it again.
func claimOnlyWhatIsMet(v rest.Validator, original, bundle []byte) (_ []byte, _ []fhir.Issue, valid bool, _ error) {
	if v == nil {
		return bundle, nil, false, nil
	}
	var b map[string]any
	dec := json.NewDecoder(bytes.NewReader(bundle))
	dec.UseNumber() // numbers keep their literal text
	if err := dec.Decode(&b); err != nil {
		return nil, nil, false, err
	}
	entries, _ := b["entry"].([]any)
	var issues []fhir.Issue
	for round := 0; round < maxWithdrawRounds; round++ {
		oo := v.ValidateBundle(bundle)
		if oo == nil || !oo.HasErrors() {
			valid = true
			break
		}
		failing := map[int][]fhir.Issue{}
		for _, is := range oo.Issue {
			if is.Severity != fhir.SeverityError && is.Severity != fhir.SeverityFatal {
				continue
			}
			for _, e := range is.Expression {
				if m := entryIndex.FindStringSubmatch(e); m != nil {
					i, _ := strconv.Atoi(m[1])
					failing[i] = append(failing[i], is)
				}
			}
		}
		withdrew := false
		for i, errs := range failing {
			if i >= len(entries) {
				continue
			}
			if added := withdraw(entries[i], original); len(added) > 0 {
				withdrew = true
				issues = append(issues, fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete",
					Expression:  []string{fmt.Sprintf("Bundle.entry[%d].resource", i)},
					Diagnostics: fmt.Sprintf("kept as sent without %s: %s (000 §V)", strings.Join(added, ", "), summary(errs, 3))})
			}
		}
		if !withdrew {
			break // what fails now is the sender's own claim: the write says why
		}
		var err error
		if bundle, err = json.Marshal(b); err != nil {
			return nil, nil, false, err
		}
	}
	return bundle, issues, valid, nil
}

// withdraw removes from one entry's resource the AIT profiles the intake added (those
// the original submission does not name), and returns them.
func withdraw(entry any, original []byte) []string {
	e, _ := entry.(map[string]any)
	res, _ := e["resource"].(map[string]any)
	meta, _ := res["meta"].(map[string]any)
	profiles, _ := meta["profile"].([]any)
	var added []string
	keep := []any{}
	for _, p := range profiles {
		if s, _ := p.(string); strings.HasPrefix(s, mapping.Base) && !bytes.Contains(original, []byte(s)) {
			added = append(added, s)
			continue
		}
		keep = append(keep, p)
	}
	if len(added) == 0 {
		return nil
	}
	if len(keep) == 0 {
		delete(meta, "profile")
	} else {
		meta["profile"] = keep
	}
	if len(meta) == 0 {
		delete(res, "meta")
	}
	return added
}

// summary joins the first n issues' diagnostics.
func summary(issues []fhir.Issue, n int) string {
	var parts []string
	for i, is := range issues {
		if i == n {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, is.Diagnostics)
	}
	return strings.Join(parts, "; ")
}
