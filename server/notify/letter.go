package notify

import (
	"errors"
	"strings"
	_ "time/tzdata" // letters give Paris times even on hosts without a zone database

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/letters"
	"github.com/aitgw/aitgw/mapping/rules"
)

// LetterRule names the letter of one milestone: its code, subject and the section
// that asks for it. The letters themselves are the table rules.Letters, beside the
// notification matrix; this view keeps the topics and labels of the notification
// service in step with it.
type LetterRule struct {
	Code, Subject, SeedSection string
}

// LetterRules are the letters of rules.Letters, one per milestone and alert.
var LetterRules = func() []LetterRule {
	var out []LetterRule
	for _, l := range rules.Letters {
		out = append(out, LetterRule{l.Milestone, l.Subject, l.Section})
	}
	return out
}()

// Codes of the gateway's own alerts to the coordinator.
const (
	AlertMissingRecipient = rules.AlertMissingRecipient
	AlertDeadLetter       = rules.AlertDeadLetter
)

// letterRule returns the row of a milestone code.
func letterRule(code string) (LetterRule, bool) {
	for _, l := range LetterRules {
		if l.Code == code {
			return l, true
		}
	}
	return LetterRule{}, false
}

// pathwayFacts are the keys the pathway engine passes that are not letter facts.
var pathwayFacts = map[string]bool{"step": true, "detail": true}

// compose writes the letter of m to r from the pathway's resources, read in the
// milestone's transaction.
func compose(w Writer, m Milestone, r Recipient) letters.Document {
	ev := letters.Event{Code: m.Code, Patient: m.Patient, About: m.About, At: m.EventTime,
		Detail: m.Facts["detail"], Coordinator: m.Coordinator, Facts: map[string]string{}}
	for k, v := range m.Facts {
		if !pathwayFacts[k] {
			ev.Facts[k] = v
		}
	}
	doc, _ := letters.Compose(txRecords{w}, ev, r.Reference, r.Role) // never fails: unknown codes get a generic letter
	return doc
}

// txRecords reads the store inside the milestone's transaction (mapping.Records).
type txRecords struct{ w Writer }

// Read implements mapping.Records.
func (t txRecords) Read(typ, id string) ([]byte, error) {
	rec, err := t.w.Tx().Current(typ, id)
	if err != nil {
		return nil, err
	}
	if rec.Deleted {
		return nil, fhir.ErrGone
	}
	return rec.Body, nil
}

// Search implements mapping.Records.
func (t txRecords) Search(typ, query string) ([][]byte, error) {
	ids, err := t.w.Match(typ, query)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, id := range ids {
		rec, err := t.w.Tx().Current(typ, id)
		if errors.Is(err, fhir.ErrNotFound) || (err == nil && rec.Deleted) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec.Body)
	}
	return out, nil
}

// roleLabel is a role as a letter names it.
func roleLabel(role string) string { return strings.TrimSpace(roleSource(role).Label) }
