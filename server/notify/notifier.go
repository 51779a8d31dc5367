package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/letters"
)

// CategorySystem codes Communication.category with the milestone (and the gateway's
// alerts).
const CategorySystem = "https://aitgw.org/fhir/CodeSystem/ait-milestone"

// Notifier records the notifications of milestones and queues their deliveries.
// It keeps no state: everything goes in the caller's transaction.
type Notifier struct{}

// OnMilestone runs inside the write transaction that raised m: it writes one
// Communication per recipient (status preparation) and queues its deliveries (one mail
// to the recipient's telecom email, one event per matching Subscription) in that same
// commit. A recipient the pathway data does not name yields a warning, returned, and
// an alert Communication to the coordinator; a recipient with no channel yields a
// warning and a Communication on-hold (it can still be read and searched). Telling the
// same milestone twice to the same recipient writes nothing new.
func (n *Notifier) OnMilestone(ctx context.Context, w Writer, m Milestone) ([]fhir.Issue, error) {
	if m.Code == "" {
		return nil, fhir.Errorf(http.StatusInternalServerError, "required", "Communication.category", "milestone without a code")
	}
	if t, _, ok := splitRef(m.Patient); !ok || t != "Patient" {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "required", "Communication.subject",
			"milestone %q has no patient to notify about (%s)", m.Code, m.SeedSection)
	}
	if m.EventTime.IsZero() {
		m.EventTime = w.Now()
	}
	subs, err := n.listeners(w.Tx(), m.Code, w.Now())
	if err != nil {
		return nil, err
	}
	var warnings []fhir.Issue
	for _, r := range m.Recipients {
		if strings.TrimSpace(r.Reference) == "" {
			warnings = append(warnings, n.missing(w, m, r.Role, subs)...)
			continue
		}
		warn, err := n.tell(w, m, r, subs, false)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, warn...)
	}
	return warnings, nil
}

// missing reports a recipient the data does not name, and alerts the coordinator.
func (n *Notifier) missing(w Writer, m Milestone, role string, subs []*subscription) []fhir.Issue {
	src := roleSource(role)
	warn := fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete", Expression: []string{src.Expression},
		Diagnostics: fmt.Sprintf("milestone %q (%s) cannot be sent to the %s: %s names nobody (%s); the coordinator is alerted",
			m.Code, m.SeedSection, role, src.Expression, src.SeedSection),
		Details: &fhir.CodeableText{Coding: []fhir.Coding{{System: CategorySystem, Code: AlertMissingRecipient}}, Text: src.SeedSection}}
	if m.Coordinator == "" || role == RoleAlgologist {
		warn.Diagnostics = fmt.Sprintf("milestone %q (%s) cannot be sent to the %s: %s names nobody (%s), and no coordinator (CarePlan.author) is known to alert",
			m.Code, m.SeedSection, role, src.Expression, src.SeedSection)
		return []fhir.Issue{warn}
	}
	alert := Milestone{Code: AlertMissingRecipient, Display: "Recipient missing", SeedSection: src.SeedSection,
		Patient: m.Patient, About: m.About, Coordinator: m.Coordinator, EventTime: m.EventTime,
		Facts: map[string]string{"role": src.Label, "expression": src.Expression, "milestone": milestoneLabel(m)}}
	more, err := n.tell(w, alert, Recipient{Role: RoleAlgologist, Reference: m.Coordinator}, subs, true)
	if err != nil {
		warn.Diagnostics += fmt.Sprintf("; the alert could not be written: %v", err)
	}
	return append([]fhir.Issue{warn}, more...)
}

func milestoneLabel(m Milestone) string {
	if l, ok := letterRule(m.Code); ok {
		return l.Subject
	}
	return m.Display
}

// tell writes the Communication of m to r and queues its deliveries.
func (n *Notifier) tell(w Writer, m Milestone, r Recipient, subs []*subscription, alert bool) ([]fhir.Issue, error) {
	tx := w.Tx()
	id := communicationID(m, r)
	if cur, err := tx.Current("Communication", id); err == nil && !cur.Deleted {
		return nil, nil // already told
	} else if err != nil && !errors.Is(err, fhir.ErrNotFound) {
		return nil, err
	}
	doc := compose(w, m, r)
	docRef, err := storeLetter(w, id, m, doc)
	if err != nil {
		return nil, err
	}
	cs := commState{Coordinator: m.Coordinator, Patient: m.Patient}
	body := communication(id, m, r, doc.Subject, doc.Text(), docRef, alert)
	if _, _, err := w.Put("Communication", id, body, http.MethodPost, 0); err != nil {
		return nil, err
	}
	base := Delivery{Communication: id, Role: r.Role, Milestone: m.Code, Alert: alert, Created: w.Now(), Next: w.Now()}
	if addr, err := emailOf(tx, r.Reference); err != nil {
		return nil, err
	} else if addr != "" {
		d := base
		d.Lane, d.Channel, d.Address, d.Event, d.Key = "mail/"+id, ChannelEmail, addr, 1, idempotencyKey(id, 1)
		if _, err := enqueue(tx, d, &cs); err != nil {
			return nil, err
		}
	}
	for _, s := range subs {
		ok, err := s.matches(w, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ev, err := nextEvent(tx, s.ID, id, s.Topic, w.Now())
		if err != nil {
			return nil, err
		}
		d := base
		d.Lane, d.Channel, d.Subscription, d.Event, d.Key = "sub/"+s.ID, ChannelRestHook, s.ID, ev, idempotencyKey(id, ev)
		if _, err := enqueue(tx, d, &cs); err != nil {
			return nil, err
		}
	}
	var warnings []fhir.Issue
	if cs.Pending == 0 {
		warnings = append(warnings, fhir.Issue{Severity: fhir.SeverityWarning, Code: "incomplete",
			Expression: []string{"Communication.recipient"},
			Diagnostics: fmt.Sprintf("Communication/%s (%s, %s) has no delivery channel: %s has no email telecom and no Subscription matches; it is kept on-hold for reading",
				id, m.Code, m.SeedSection, r.Reference)})
		if err := markUndelivered(w, id, "on-hold", ReasonNoChannel, "", w.Now()); err != nil {
			return nil, err
		}
		// ids and codes only: no patient data in the log
		slog.Warn("notify: no delivery channel", "communication", id, "milestone", m.Code, "role", r.Role)
	}
	return warnings, putJSON(tx, commKey(id), cs)
}

// communicationID is the id of the Communication telling m to r: the same
// milestone, content and recipient always give the same id.
func communicationID(m Milestone, r Recipient) string {
	about := append([]string(nil), m.About...)
	sort.Strings(about)
	facts := make([]string, 0, len(m.Facts))
	for k, v := range m.Facts {
		facts = append(facts, k+"="+v)
	}
	sort.Strings(facts)
	return contentID("ntf-", m.Code, m.Patient, strings.Join(about, ","), r.Role, r.Reference, strings.Join(facts, ";"))
}

// communication renders the Communication resource of a notification.
func communication(id string, m Milestone, r Recipient, subject, letter, docRef string, alert bool) []byte {
	type ref struct {
		Reference string `json:"reference"`
	}
	type coding struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	type concept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	c := struct {
		ResourceType string           `json:"resourceType"`
		ID           string           `json:"id"`
		Status       string           `json:"status"`
		Category     []concept        `json:"category"`
		Priority     string           `json:"priority"`
		Subject      ref              `json:"subject"`
		About        []ref            `json:"about,omitempty"`
		Recipient    []ref            `json:"recipient"`
		Sender       *ref             `json:"sender,omitempty"`
		ReasonCode   []concept        `json:"reasonCode,omitempty"`
		Payload      []map[string]any `json:"payload"`
	}{
		ResourceType: "Communication", ID: id, Status: "preparation",
		Category: []concept{{Coding: []coding{{CategorySystem, m.Code, m.Display}}, Text: subject}},
		Priority: "routine", Subject: ref{m.Patient}, Recipient: []ref{{r.Reference}},
		ReasonCode: []concept{{Text: letters.Cite(m.SeedSection)}},
		Payload: []map[string]any{{"contentString": letter},
			{"contentReference": map[string]string{"reference": docRef, "display": subject}}},
	}
	if alert {
		c.Priority = "urgent"
	}
	for _, a := range m.About {
		c.About = append(c.About, ref{a})
	}
	if m.Coordinator != "" {
		c.Sender = &ref{m.Coordinator}
	}
	b, _ := json.Marshal(c) // plain strings: cannot fail
	return b
}

// emailOf returns the email telecom of a recipient (a PractitionerRole falls back on
// its Practitioner), or "" when there is none.
func emailOf(tx fhir.Tx, reference string) (string, error) {
	typ, id, ok := splitRef(reference)
	if !ok {
		return "", nil
	}
	rec, err := tx.Current(typ, id)
	if errors.Is(err, fhir.ErrNotFound) {
		return "", nil
	}
	if err != nil || rec.Deleted {
		return "", err
	}
	var res struct {
		Telecom []struct {
			System string `json:"system"`
			Value  string `json:"value"`
			Rank   int    `json:"rank"`
			Period *struct {
				End string `json:"end"`
			} `json:"period"`
		} `json:"telecom"`
		Practitioner *struct {
			Reference string `json:"reference"`
		} `json:"practitioner"`
	}
	if json.Unmarshal(rec.Body, &res) != nil {
		return "", nil
	}
	best, bestRank := "", 1<<30
	for _, t := range res.Telecom {
		if t.System != "email" || t.Value == "" || (t.Period != nil && t.Period.End != "") {
			continue
		}
		r := t.Rank
		if r == 0 {
			r = 1 << 29
		}
		if !IsMSSante(t.Value) {
			r += 1 << 20 // a secure-messaging (MSSanté) address wins over any other
		}
		if r < bestRank {
			best, bestRank = strings.TrimPrefix(t.Value, "mailto:"), r
		}
	}
	if best == "" && typ == "PractitionerRole" && res.Practitioner != nil {
		return emailOf(tx, res.Practitioner.Reference)
	}
	return best, nil
}

// listeners returns the subscriptions that want a milestone's events.
func (n *Notifier) listeners(tx fhir.Tx, code string, now time.Time) ([]*subscription, error) {
	var out []*subscription
	err := tx.ScanType("Subscription", func(rec *fhir.Record) bool {
		s, err := parseSubscription(rec.ID, rec.Body)
		if err != nil {
			return true // unreadable subscriptions listen to nothing
		}
		if s.Type == "rest-hook" && s.listens(code, now) {
			out = append(out, s)
		}
		return true
	})
	return out, err
}

// setStatus writes a new version of Communication id with status (and sent, when
// not zero).
func setStatus(w Writer, id, status string, sent time.Time) error {
	rec, err := w.Tx().Current("Communication", id)
	if err != nil {
		return err
	}
	if rec.Deleted {
		return nil
	}
	var cur struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(rec.Body, &cur)
	if cur.Status == status {
		return nil
	}
	set := [][2]any{{"status", status}}
	if !sent.IsZero() {
		set = append(set, [2]any{"sent", sent.UTC().Format(time.RFC3339)})
	}
	body, err := setMembers(rec.Body, set, "statusReason") // a status that moves on drops the old reason
	if err != nil {
		return err
	}
	_, _, err = w.Put("Communication", id, body, http.MethodPut, 0)
	return err
}

// MSSanteDomain is the domain of French secure health messaging addresses.
const MSSanteDomain = "mssante.fr"

// IsMSSante reports whether an address belongs to the MSSanté trust space
// (…@x.mssante.fr): letters go there first.
func IsMSSante(addr string) bool {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimPrefix(addr, "mailto:")), "@")
	return ok && (domain == MSSanteDomain || strings.HasSuffix(domain, "."+MSSanteDomain))
}
