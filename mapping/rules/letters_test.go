package rules

import (
	"strings"
	"testing"
	"text/template"
)

// TestLettersCoverTheMatrix: every row of the notification matrix has its letter,
// and every letter is a matrix row or an alert; each names its seed section and a
// LOINC document type, and parses.
func TestLettersCoverTheMatrix(t *testing.T) {
	codes := map[string]bool{}
	for _, m := range Milestones {
		codes[m.Code] = true
		if _, ok := LetterFor(m.Code); !ok {
			t.Errorf("milestone %s has no letter", m.Code)
		}
	}
	for _, a := range Alerts {
		codes[a] = true
	}
	seen := map[string]bool{}
	for _, l := range Letters {
		if !codes[l.Milestone] {
			t.Errorf("letter %s is neither a milestone of the matrix nor an alert", l.Milestone)
		}
		if seen[l.Milestone] {
			t.Errorf("letter %s twice", l.Milestone)
		}
		seen[l.Milestone] = true
		if l.Section == "" || l.DocType.Code == "" || l.Subject == "" {
			t.Errorf("letter %s: section %q, type %q, subject %q", l.Milestone, l.Section, l.DocType.Code, l.Subject)
		}
		if _, err := template.New(l.Milestone).Funcs(template.FuncMap{"f": func(string) string { return "" }}).Parse(l.Body); err != nil {
			t.Errorf("letter %s: %v", l.Milestone, err)
		}
	}
}

// TestEveryLetterFactHasAMissingPhrase: a fact a template prints is named when the
// data does not give it (never an empty phrase).
func TestEveryLetterFactHasAMissingPhrase(t *testing.T) {
	known := map[string]bool{}
	for _, f := range LetterFacts {
		known[f.Key] = true
		if strings.TrimSpace(f.Missing) == "" {
			t.Errorf("fact %s has an empty missing phrase", f.Key)
		}
	}
	for _, l := range Letters {
		for _, part := range strings.Split(l.Body, `{{f "`)[1:] {
			key, _, _ := strings.Cut(part, `"`)
			if !known[key] {
				t.Errorf("letter %s prints fact %q, which has no missing phrase", l.Milestone, key)
			}
		}
	}
}
