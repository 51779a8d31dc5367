package notify

import (
	"fmt"
	"strings"
	"text/template"
	"time"
	_ "time/tzdata" // letters are dated in Paris time on hosts without a zone database
	_ "time/tzdata" // letters give Paris times even on hosts without a zone database
)

// LetterRule is the letter of one milestone, in the spirit of the referential's
// letters: what the GP must know, in French, with the section that asks for it.
type LetterRule struct {
	Code string
	// Subject is the letter's "Objet".
	Subject string
	// Body is a text/template; {{f "key"}} prints a fact or "non renseigné".
	Body        string
	SeedSection string
}

// LetterRules is the table of letters, one row per milestone of "Who is told what"
// (pathways.md), plus the gateway's own alerts.
var LetterRules = []LetterRule{
	{"referral-received", "Demande d'analgésie intrathécale reçue",
		`Nous avons bien reçu votre demande de prise en charge en analgésie intrathécale (AIT) pour votre patient(e).
État du dossier : {{f "dossier"}}.
Le dossier sera examiné en réunion de concertation pluridisciplinaire (RCP) dans les 15 jours suivant sa complétude.`, "000 §V-VI"},
	{"dossier-incomplete", "Dossier AIT incomplet",
		`Le dossier de demande d'analgésie intrathécale de votre patient(e) est incomplet ; la RCP ne peut être programmée qu'à dossier complet.
Éléments manquants : {{f "missing"}}.
Rappel : bilan biologique de moins d'un mois, imagerie de moins de six semaines.`, "000 §V-VI"},
	{"planned-ait-care", "Prise en charge en analgésie intrathécale envisagée",
		`Votre patient(e) nous a été adressé(e) par {{f "referrer"}} pour une analgésie intrathécale d'une douleur cancéreuse réfractaire.
Nous vous tiendrons informé(e) de la décision de la RCP et, le cas échéant, de la date de l'intervention.`, "000 §V.1, §V.2"},
	{"rcp-decision", "Décision de la RCP d'analgésie intrathécale",
		`La réunion de concertation pluridisciplinaire du {{f "date"}} a rendu la décision suivante : {{f "decision"}}.
Technique retenue : {{f "technique"}}.
{{f "rationale"}}
La validation définitive est soumise au consentement du patient lors de la consultation d'algologie.`, "000 §VI"},
	{"intervention-planned", "Programmation de la pose du dispositif intrathécal",
		`L'intervention de pose est programmée le {{f "date"}} ({{f "technique"}}).
Modalités : {{f "modalities"}}.
Relais ou arrêt des traitements avant la pose : {{f "relay"}}.`, "000 §VIII"},
	{"discharge-letter", "Courrier de sortie après pose d'un dispositif intrathécal",
		`Votre patient(e) est sorti(e) le {{f "date"}} après la pose du dispositif intrathécal.
Molécules et débits : {{f "drugs"}}.
Premier remplissage prévu le {{f "nextRefill"}} ({{f "refillCentre"}}).
Ne pas reprendre les antalgiques antérieurs sans avis du centre. Une ligne d'astreinte est joignable 24 h/24.`, "000 §XI"},
	{"refill", "Remplissage de la pompe intrathécale",
		`Le remplissage de la pompe de votre patient(e) a été réalisé le {{f "date"}}.
Médicaments utilisés : {{f "drugs"}}.
Prochain remplissage prévu le {{f "nextRefill"}}.`, "000 §XIII"},
	{"complication", "Complication de l'analgésie intrathécale",
		`Une complication a été constatée le {{f "date"}} : {{f "complication"}}.
Conduite tenue : {{f "management"}}.`, "000 §X, §IX"},
	{"deadline-overdue", "Délai du parcours AIT dépassé",
		`Un délai du parcours est dépassé : {{f "deadline"}}.`, "000 §VI, §VII"},
	{"pump-dry-before-refill", "Alerte : pompe vide avant le prochain remplissage",
		`Au débit programmé, la pompe intrathécale sera vide avant le remplissage prévu ({{f "detail"}}). Merci d'avancer le remplissage ou d'ajuster le débit.`, "000 §XIII"},
	{AlertMissingRecipient, "Alerte : destinataire introuvable",
		`Le {{f "role"}} n'est pas renseigné ({{f "expression"}}) : la notification « {{f "milestone"}} » n'a pas pu lui être adressée.
Merci de compléter le dossier.`, "000 §III"},
	{AlertDeadLetter, "Alerte : notification non délivrée",
		`La notification « {{f "milestone"}} » adressée au {{f "role"}} n'a pas pu être délivrée par {{f "channel"}} après {{f "attempts"}} tentatives : {{f "error"}}.
Merci de la transmettre par un autre moyen puis de la rejouer si besoin.`, "000 §III"},
}

// Codes of the gateway's own alerts to the coordinator.
const (
	AlertMissingRecipient = "alert-missing-recipient"
	AlertDeadLetter       = "alert-dead-letter"
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

// templates caches the parsed letter bodies.
var templates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, l := range LetterRules {
		// Missing facts print "non renseigné" rather than failing: a short letter beats
		// no letter. The func is rebound per letter in Letter.
		out[l.Code] = template.Must(template.New(l.Code).Funcs(template.FuncMap{"f": func(string) string { return "" }}).Parse(l.Body))
	}
	return out
}()

// Letter renders the French letter of a milestone for a recipient role: the subject
// and the body a GP can read.
func Letter(m Milestone, role string) (subject, body string) {
	rule, ok := letterRule(m.Code)
	if !ok {
		rule = LetterRule{Code: m.Code, Subject: m.Display, SeedSection: m.SeedSection}
	}
	seed := m.SeedSection
	if seed == "" {
		seed = rule.SeedSection
	}
	var text strings.Builder
	fmt.Fprintf(&text, "Objet : %s\n\n", rule.Subject)
	text.WriteString(salutation(role))
	text.WriteString("\n\n")
	if t, ok := templates[m.Code]; ok {
		fact := func(k string) string {
			if v := strings.TrimSpace(m.Facts[k]); v != "" {
				return v
			}
			return "non renseigné"
		}
		var b strings.Builder
		if err := template.Must(t.Clone()).Funcs(template.FuncMap{"f": fact}).Execute(&b, nil); err != nil {
			b.WriteString(m.Display)
		}
		text.WriteString(strings.TrimSpace(strings.ReplaceAll(b.String(), "\nnon renseigné\n", "\n")))
	} else {
		text.WriteString(m.Display)
	}
	if !m.EventTime.IsZero() {
		fmt.Fprintf(&text, "\n\nÉvénement du %s.", frenchDate(m.EventTime))
	}
	fmt.Fprintf(&text, "\n\nCe courrier est adressé conformément au référentiel régional d'analgésie intrathécale (%s).\n\nBien confraternellement,\nL'équipe d'algologie du centre d'implantation\n", seed)
	return rule.Subject, text.String()
}

// salutation opens the letter for a role.
func salutation(role string) string {
	switch role {
	case RoleAlgologist:
		return "Cher(e) collègue,"
	default:
		return "Cher(e) Confrère, chère Consœur,"
	}
}

// paris is the letters' time zone.
var paris, _ = time.LoadLocation("Europe/Paris")

// frenchDate renders a time as 02/01/2006 à 15h04, Paris time.
func frenchDate(t time.Time) string {
	if paris != nil {
		t = t.In(paris)
	}
	return t.Format("02/01/2006 à 15h04")
}
