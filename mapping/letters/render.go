package letters

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Document is one letter, ready to read, print or send.
type Document struct {
	Letter rules.Letter
	// Subject is the "Objet"; Body the text between the salutation and the closing.
	Subject, Body string
	Patient       Identity
	// Author is the coordinating algologist who signs; Recipient whom it is for;
	// Custodian the organisation that keeps it (the author's).
	Author, Recipient, Custodian Party
	// RecipientRole is the recipient's pathway role (rules.Role).
	RecipientRole string
	Date          time.Time
	Facts         Facts
}

// Compose gathers the facts of ev and writes its letter to recipient (a reference)
// in the role given; author is the signing physician (the coordinator).
func Compose(r mapping.Records, ev Event, recipient, role string) (Document, error) {
	l, ok := rules.LetterFor(ev.Code)
	if !ok {
		// a milestone the table does not know yet still gets a letter that says what
		// happened, rather than none
		l = rules.Letter{Milestone: ev.Code, Subject: "Notification du parcours d'analgésie intrathécale",
			Body: `Événement du parcours : {{f "what"}}.`, DocType: rules.DocNote, Section: "000 §III"}
		if ev.Facts == nil {
			ev.Facts = map[string]string{}
		}
		if ev.Facts["what"] == "" {
			ev.Facts["what"] = strings.TrimSpace(ev.Code + " " + ev.Detail)
		}
	}
	rd := &reader{r: r, cache: map[string]object{}}
	facts := Gather(r, ev)
	doc := Document{Letter: l, Subject: l.Subject, Facts: facts, Date: ev.At, RecipientRole: role,
		Patient: rd.identity(ev.Patient), Recipient: rd.party(recipient), Author: rd.party(ev.Coordinator)}
	if doc.Date.IsZero() {
		doc.Date = time.Now()
	}
	if doc.Author.Organization != "" {
		doc.Custodian = Party{Name: doc.Author.Organization, FINESS: doc.Author.FINESS}
		if pr := rd.get(ev.Coordinator); pr != nil {
			doc.Custodian.Reference = ref(pr, "organization")
		}
	}
	body, err := Fill(l, facts)
	if err != nil {
		return Document{}, err
	}
	doc.Body = body
	return doc, nil
}

// Fill renders a letter's template with facts; a fact absent or empty prints its
// missing phrase (rules.MissingPhrase).
func Fill(l rules.Letter, facts Facts) (string, error) {
	f := func(k string) string {
		if v := strings.TrimSpace(facts[k]); v != "" {
			return v
		}
		return rules.MissingPhrase(k)
	}
	t, err := template.New(l.Milestone).Funcs(template.FuncMap{"f": f}).Parse(l.Body)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Salutation opens the letter for a role.
func Salutation(role string) string {
	if role == string(rules.RoleAlgologist) {
		return "Cher(e) collègue,"
	}
	return "Cher(e) Confrère, chère Consœur,"
}

// PatientLine identifies the patient: name, birth date, INS.
func (d Document) PatientLine() string {
	p := d.Patient
	name := p.Name()
	if name == "" {
		name = "patient(e) sans nom transmis"
	}
	born := "date de naissance non transmise"
	if t := frenchFHIRDate(p.BirthDate); t != "" {
		born = "né(e) le " + t
	}
	ins := "INS non transmis"
	if p.INS != "" {
		kind := "NIR"
		if p.INSSystem == OIDNIA || p.INSSystem == OIDNIATest {
			kind = "NIA"
		}
		ins = "INS (" + kind + ") " + p.INS
	}
	return name + ", " + born + ", " + ins
}

// Signature is the signature block.
func (d Document) Signature() string {
	lines := []string{d.Author.Name, "Algologue coordonnateur du parcours d'analgésie intrathécale"}
	if d.Author.Name == "" {
		lines = []string{"L'équipe d'algologie du centre d'implantation", "Parcours d'analgésie intrathécale"}
	}
	if d.Author.RPPS != "" {
		lines = append(lines, "RPPS "+d.Author.RPPS)
	}
	if d.Author.Organization != "" {
		lines = append(lines, d.Author.Organization)
	}
	return strings.Join(lines, "\n")
}

// Source cites the referential section that asks for the letter, by title.
func (d Document) Source() string {
	return "Référence : " + Cite(d.Letter.Section) + "."
}

// Text is the whole letter as plain text (the mail body, Communication.payload).
func (d Document) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Objet : %s\n", d.Subject)
	fmt.Fprintf(&b, "Patient(e) : %s\n", d.PatientLine())
	fmt.Fprintf(&b, "Le %s\n\n", FrenchDate(d.Date))
	b.WriteString(Salutation(d.RecipientRole) + "\n\n")
	b.WriteString(d.Body + "\n\n")
	b.WriteString(d.Source() + "\n\n")
	b.WriteString("Bien confraternellement,\n\n" + d.Signature() + "\n")
	return b.String()
}

// Cite renders a citation that may name several documents ("000 §XIII, 001") by
// their titles, each part through rules.Cite.
func Cite(citation string) string {
	parts := strings.Split(citation, ", ")
	var out []string
	start := 0
	for i := 1; i <= len(parts); i++ {
		if i == len(parts) || isDocNumber(parts[i]) {
			out = append(out, rules.Cite(strings.Join(parts[start:i], ", ")))
			start = i
		}
	}
	return strings.Join(out, " ; ")
}

// isDocNumber reports whether a citation part starts with a document number ("001").
func isDocNumber(s string) bool {
	return len(s) >= 3 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}
