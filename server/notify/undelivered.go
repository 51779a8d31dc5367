package notify

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Why a Communication was not delivered (Communication.statusReason): nothing is
// undelivered silently.
const (
	// ReasonSystem codes Communication.statusReason of the notifications.
	ReasonSystem = "https://aitgw.org/fhir/CodeSystem/ait-notification-status-reason"
	// ReasonNoChannel: the recipient has no secure-mail address and no Subscription
	// matches.
	ReasonNoChannel = "no-channel"
	// ReasonRefused: every attempt of a channel failed until the retry horizon.
	ReasonRefused = "channel-refused"

	// IssueSystem codes the DetectedIssue raised for an undelivered notification.
	IssueSystem = "https://aitgw.org/fhir/CodeSystem/ait-notification-issue"
	// IssueUndelivered is its code.
	IssueUndelivered = "undelivered-notification"
)

// undeliveredReasons are the statusReason texts, in French, as the coordinator reads
// them.
var undeliveredReasons = map[string]string{
	ReasonNoChannel: "aucun canal de transmission pour le destinataire (ni adresse de messagerie sécurisée, ni abonnement FHIR)",
	ReasonRefused:   "le canal de transmission a refusé le message",
}

// issueID is the DetectedIssue of an undelivered Communication.
func issueID(comm string) string { return "undel-" + strings.TrimPrefix(comm, "ntf-") }

// markUndelivered sets the Communication's status and statusReason and raises a
// DetectedIssue for the coordinator naming the Communication, the recipient and the
// reason, in the caller's transaction. detail adds the channel's answer.
func markUndelivered(w Writer, comm, status, reason, detail string, now time.Time) error {
	rec, err := w.Tx().Current("Communication", comm)
	if err != nil || rec.Deleted {
		return err
	}
	var c struct {
		Subject   struct{ Reference string }   `json:"subject"`
		Sender    struct{ Reference string }   `json:"sender"`
		Recipient []struct{ Reference string } `json:"recipient"`
		Priority  string                       `json:"priority"`
		Category  []struct {
			Text string `json:"text"`
		} `json:"category"`
	}
	_ = json.Unmarshal(rec.Body, &c)
	text := undeliveredReasons[reason]
	if detail != "" {
		text += " : " + detail
	}
	statusReason := map[string]any{"coding": []any{map[string]string{"system": ReasonSystem, "code": reason}}, "text": text}
	body, err := setMembers(rec.Body, [][2]any{{"status", status}, {"statusReason", statusReason}})
	if err != nil {
		return err
	}
	if _, _, err := w.Put("Communication", comm, body, http.MethodPut, 0); err != nil {
		return err
	}
	if c.Subject.Reference == "" {
		return nil // a DetectedIssue is about a patient
	}
	recipient := ""
	if len(c.Recipient) > 0 {
		recipient = c.Recipient[0].Reference
	}
	what := "la notification"
	if len(c.Category) > 0 && c.Category[0].Text != "" {
		what = "la notification « " + c.Category[0].Text + " »"
	}
	msg := "Non délivré : " + what + " adressée à " + recipient + " ; " + text + "."
	if c.Sender.Reference != "" {
		msg += " À l'attention de l'algologue coordonnateur (" + c.Sender.Reference + ") : la transmettre par un autre moyen, compléter les coordonnées du destinataire puis la rejouer."
	}
	severity := "moderate"
	if c.Priority == "urgent" {
		severity = "high"
	}
	type ref struct {
		Reference string `json:"reference"`
	}
	implicated := []ref{{"Communication/" + comm}}
	if recipient != "" {
		implicated = append(implicated, ref{recipient})
	}
	issue := map[string]any{
		"resourceType": "DetectedIssue", "id": issueID(comm), "status": "final",
		"code": map[string]any{"coding": []any{map[string]string{"system": IssueSystem, "code": IssueUndelivered,
			"display": "Undelivered notification"}}, "text": "Notification non délivrée"},
		"severity": severity, "patient": ref{c.Subject.Reference}, "identifiedDateTime": now.UTC().Format(time.RFC3339),
		"implicated": implicated, "detail": msg,
	}
	ib, _ := json.Marshal(issue)
	_, _, err = w.Put("DetectedIssue", issueID(comm), ib, http.MethodPut, 0)
	return err
}

// resolveUndelivered closes the DetectedIssue of a Communication delivered after all
// (a replay): it is cancelled, and the Communication loses its statusReason.
func resolveUndelivered(w Writer, comm string) error {
	rec, err := w.Tx().Current("DetectedIssue", issueID(comm))
	if errors.Is(err, fhir.ErrNotFound) || (err == nil && rec.Deleted) {
		return nil
	}
	if err != nil {
		return err
	}
	var cur struct{ Status string }
	_ = json.Unmarshal(rec.Body, &cur)
	if cur.Status == "cancelled" {
		return nil
	}
	body, err := setMembers(rec.Body, [][2]any{{"status", "cancelled"}})
	if err != nil {
		return err
	}
	_, _, err = w.Put("DetectedIssue", issueID(comm), body, http.MethodPut, 0)
	return err
}
