package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/letters"
)

func queued(t *testing.T, e *env) []Delivery {
	t.Helper()
	var out []Delivery
	err := e.store.View(context.Background(), func(tx fhir.Tx) error {
		return scanLog(tx, queuePrefix, 0, func(_ int64, raw []byte) bool {
			var d Delivery
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// One Communication per recipient, written and queued in the milestone's commit,
// searchable by recipient, patient, category and status, with a French letter.
func TestMilestoneWritesCommunicationPerRecipient(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	if err := e.milestone(rcpMilestone()); err != nil {
		t.Fatal(err)
	}
	if len(e.warnings) != 0 {
		t.Errorf("unexpected warnings: %+v", e.warnings)
	}
	gp := e.match("Communication", "recipient=Practitioner/gp&patient=Patient/p1&category="+CategorySystem+"|rcp-decision-sent&status=preparation")
	onco := e.match("Communication", "recipient=Practitioner/onco&subject=Patient/p1")
	if len(gp) != 1 || len(onco) != 1 || gp[0] == onco[0] {
		t.Fatalf("Communications to GP %v and referring physician %v: want one each", gp, onco)
	}
	c := e.read("Communication", gp[0])
	letter := c["payload"].([]any)[0].(map[string]any)["contentString"].(string)
	if miss := contains2(letter, "Objet : Décision de la RCP", "Confrère", "pompe implantable", "indication retenue", "12/03/2026", "Référentiel régional AIT §VI"); miss != "" {
		t.Errorf("letter lacks %q:\n%s", miss, letter)
	}
	if about := c["about"].([]any)[0].(map[string]any)["reference"]; about != "ServiceRequest/sr1" {
		t.Errorf("about = %v", about)
	}
	ds := queued(t, e)
	if len(ds) != 2 {
		t.Fatalf("queued %d deliveries, want 2 mails: %+v", len(ds), ds)
	}
	addrs := map[string]string{}
	for _, d := range ds {
		addrs[d.Communication] = d.Address
		if d.Channel != ChannelEmail || d.Key != d.Communication+":1" {
			t.Errorf("delivery %+v", d)
		}
	}
	if addrs[gp[0]] != "dr.martin@gp.mssante.test" || addrs[onco[0]] != "dr.durand@chu.mssante.test" {
		t.Errorf("addresses %v", addrs)
	}

	// The same milestone told again writes nothing new.
	if err := e.milestone(rcpMilestone()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.match("Communication", "recipient=Practitioner/gp")); n != 1 {
		t.Errorf("after a repeat, %d Communications to the GP", n)
	}
	if n := len(queued(t, e)); n != 2 {
		t.Errorf("after a repeat, %d deliveries queued", n)
	}
}

// A write that fails after the milestone leaves neither Communication nor delivery.
func TestMilestoneRollsBackWithItsWrite(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	e.failHook = true
	if err := e.milestone(rcpMilestone()); err == nil {
		t.Fatal("the refused write succeeded")
	}
	if ids := e.match("Communication", "patient=Patient/p1"); len(ids) != 0 {
		t.Errorf("Communications survived a rolled-back write: %v", ids)
	}
	if ds := queued(t, e); len(ds) != 0 {
		t.Errorf("deliveries survived a rolled-back write: %v", ds)
	}
}

// A recipient the data does not name is a warning at the element and an alert to
// the coordinator, never a silent skip.
func TestMissingRecipientWarnsAndAlertsCoordinator(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	m := Milestone{Code: "discharge-letter", Display: "Discharge letter", SeedSection: "000 §XI",
		Patient: "Patient/p1", Coordinator: "Practitioner/algo",
		Recipients: []Recipient{{RoleGP, "Practitioner/gp"}, {RoleRefillCentre, ""}},
		Facts:      map[string]string{"drugs": "morphine 2 mg/j + ziconotide 2,4 µg/j"}}
	if err := e.milestone(m); err != nil {
		t.Fatal(err)
	}
	if len(e.warnings) != 1 {
		t.Fatalf("warnings: %+v", e.warnings)
	}
	w := e.warnings[0]
	if w.Severity != fhir.SeverityWarning || len(w.Expression) != 1 || w.Expression[0] != "CareTeam.participant.member" ||
		!strings.Contains(w.Diagnostics, "000 §XI") {
		t.Errorf("warning %+v", w)
	}
	alerts := e.match("Communication", "recipient=Practitioner/algo&category="+CategorySystem+"|"+AlertMissingRecipient)
	if len(alerts) != 1 {
		t.Fatalf("alerts to the coordinator: %v", alerts)
	}
	c := e.read("Communication", alerts[0])
	letter := c["payload"].([]any)[0].(map[string]any)["contentString"].(string)
	if miss := contains2(letter, "médecin du centre remplisseur", "CareTeam.participant.member", "Lettre de liaison"); miss != "" {
		t.Errorf("alert letter lacks %q:\n%s", miss, letter)
	}
	if c["priority"] != "urgent" {
		t.Errorf("alert priority %v", c["priority"])
	}
	if n := len(e.match("Communication", "recipient=Practitioner/gp&category="+CategorySystem+"|discharge-letter")); n != 1 {
		t.Errorf("GP discharge letters: %d", n)
	}
}

// A recipient without email and without a matching subscription keeps the
// Communication on-hold, with a warning.
func TestRecipientWithoutChannelIsOnHold(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	e.put(`{"resourceType":"Practitioner","id":"nomail","telecom":[{"system":"phone","value":"0600000000"}]}`)
	m := rcpMilestone()
	m.Recipients = []Recipient{{RoleGP, "Practitioner/nomail"}}
	if err := e.milestone(m); err != nil {
		t.Fatal(err)
	}
	if len(e.warnings) != 1 || e.warnings[0].Expression[0] != "Communication.recipient" {
		t.Fatalf("warnings %+v", e.warnings)
	}
	ids := e.match("Communication", "recipient=Practitioner/nomail&status=on-hold")
	if len(ids) != 1 {
		t.Fatalf("on-hold Communications: %v", ids)
	}
	c := e.read("Communication", ids[0])
	if r, _ := c["statusReason"].(map[string]any); r == nil || !strings.Contains(fmt.Sprint(r["coding"]), ReasonNoChannel) ||
		!strings.Contains(fmt.Sprint(r["text"]), "aucun canal") {
		t.Errorf("statusReason %v", c["statusReason"])
	}
	issues := e.match("DetectedIssue", "patient=Patient/p1&code="+IssueSystem+"|"+IssueUndelivered)
	if len(issues) != 1 {
		t.Fatalf("DetectedIssues: %v", issues)
	}
	di := e.read("DetectedIssue", issues[0])
	impl := fmt.Sprint(di["implicated"])
	if !strings.Contains(impl, "Communication/"+ids[0]) || !strings.Contains(impl, "Practitioner/nomail") ||
		!strings.Contains(fmt.Sprint(di["detail"]), "Practitioner/algo") || di["status"] != "final" {
		t.Errorf("DetectedIssue %v", di)
	}
}

// Every letter of the table renders through the notifier's composer, names its
// source by title and leaves no template syntax and no empty fact behind.
func TestLettersRender(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	err := e.updater().Update(context.Background(), func(w Writer) error {
		for _, l := range LetterRules {
			doc := compose(w, Milestone{Code: l.Code, SeedSection: l.SeedSection, Patient: "Patient/p1", Coordinator: "Practitioner/algo"},
				Recipient{RoleGP, "Practitioner/gp"})
			body := doc.Text()
			if doc.Subject != l.Subject || !strings.Contains(body, letters.Cite(l.SeedSection)) || strings.Contains(body, "{{") ||
				!strings.Contains(body, "non transmis") && !strings.Contains(body, "non précisé") && !strings.Contains(body, "non ") {
				t.Errorf("%s: %q\n%s", l.Code, doc.Subject, body)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
