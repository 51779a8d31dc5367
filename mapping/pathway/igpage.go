package pathway

import (
	"bytes"
	"encoding/json"
	"html/template"
	"strings"

	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// ImplementerPage renders the implementer page (/ig/, English; /ig/fr/, French):
// how to send a referral and each pathway step, generated from the tables the code
// recognises and checks steps by (mapping.StepDocs: resource, codes, qualifiers,
// extensions and units; rules.Requirements, ActorRules, Deadlines; the referral
// codes), with one minimal example per step (examples, by step fact: the
// conformance kit's steps with placeholders such as Patient/{patient}). The
// examples are posted by a test against a running gateway (conformance/e2e).
func ImplementerPage(lang string, examples map[string][]byte) []byte {
	l := labels["en"]
	if lang == "fr" {
		l = labels["fr"]
	}
	type step struct {
		mapping.StepDoc
		Name, Example string
	}
	var steps []step
	for _, d := range mapping.StepDocs() {
		s := step{StepDoc: d, Name: d.Display}
		if n, ok := l.StepNames[d.Fact]; ok {
			s.Name = n
		}
		if ex := examples[d.Fact]; ex != nil {
			var buf bytes.Buffer
			if json.Indent(&buf, ex, "", "  ") == nil {
				s.Example = buf.String()
			}
		}
		steps = append(steps, s)
	}
	var referrals []rules.ReferralCode
	referrals = append(referrals, rules.ReferralCodes...)
	var buf bytes.Buffer
	_ = pageTemplate.Execute(&buf, map[string]any{"L": l, "Lang": lang, "Steps": steps, "Referrals": referrals,
		"System": mapping.CodeSystemAIT, "Cite": rules.Cite, "Catalogue": ruleCatalogue(), "Sources": sourceRows(), "Dossier": dossierRows()})
	return buf.Bytes()
}

// pageLabels are the page's words in one language (the clinical content comes from
// the tables and keeps their seed sections).
type pageLabels struct {
	Title, Intro, Other, OtherHref, Referral, ReferralText, Identity, Steps, Resource, Code, Date, Actor,
	Qualifiers, Extensions, Needs, Who, Delays, Example, Placeholders, Source, Catalogue, Sources, Dossier, Units string
	// StepNames are the steps' names in the page's language (English: the tables').
	StepNames map[string]string
}

var labels = map[string]pageLabels{
	"en": {Title: "AIT Gateway: implementer guide", Other: "Version française", OtherHref: "fr/",
		Intro: "How an EHR sends a referral and each step of the AIT (intrathecal analgesia) and IR (interventional radiology) pain pathways. " +
			"This page is generated from the tables the gateway recognises and checks the resources by; every example below is posted by the gateway's tests.",
		Referral: "Referral", ReferralText: "A transaction Bundle (the ServiceRequest with one of these codes, its Patient and, for AIT, the dossier), posted to [base]/$ait-referral or to the base: the same intake either way, idempotent.",
		Identity: "Identity: the INS (NIR/NIA) when present, else the sender's IPP with the birth date and the family name. A referral, ServiceRequest or step pointing at another patient's dossier is refused (409), audited, and nothing is written.",
		Steps:    "Steps", Resource: "Resource", Code: "Step code", Date: "Date", Actor: "Recorded by", Qualifiers: "Qualifier codes", Extensions: "Extensions",
		Needs: "Needs first", Who: "Who may record it", Delays: "Delays", Example: "Minimal example",
		Placeholders: "Replace the placeholders in braces ({patient}, {referral}, {algologist-role}…) with your references.",
		Source:       "Source", Catalogue: "Catalogue of the pathway rules", Sources: "Source documents",
		Dossier: "The complete AIT dossier (ServiceRequest.supportingInfo): $ait-dossier-status and the AITReferral profile check exactly this list", Units: "Units"},
	"fr": {Title: "AIT Gateway : guide d'intégration", Other: "English version", OtherHref: "../",
		Intro: "Comment un logiciel de soins envoie une demande d'adressage et chaque étape des parcours douleur AIT (analgésie intrathécale) et RI (radiologie interventionnelle). " +
			"Cette page est générée à partir des tables par lesquelles la passerelle reconnaît et contrôle les ressources ; chaque exemple ci-dessous est posté par les tests de la passerelle.",
		Referral: "Demande d'adressage", ReferralText: "Un Bundle transaction (la ServiceRequest avec l'un de ces codes, son Patient et, pour l'AIT, le dossier), posté sur [base]/$ait-referral ou sur la base : même prise en charge, idempotente.",
		Identity: "Identité : l'INS (NIR/NIA) s'il est présent, sinon l'IPP de l'émetteur avec la date de naissance et le nom de famille. Une demande, une ServiceRequest ou une étape qui pointe vers le dossier d'un autre patient est refusée (409), tracée, et rien n'est écrit.",
		Steps:    "Étapes", Resource: "Ressource", Code: "Code de l'étape", Date: "Date", Actor: "Saisie par", Qualifiers: "Codes qualifiants", Extensions: "Extensions",
		Needs: "Prérequis", Who: "Qui peut la saisir", Delays: "Délais", Example: "Exemple minimal",
		Placeholders: "Remplacez les noms entre accolades ({patient}, {referral}, {algologist-role}…) par vos références.",
		Source:       "Source", Catalogue: "Catalogue des règles du parcours", Sources: "Documents sources",
		Dossier: "Le dossier AIT complet (ServiceRequest.supportingInfo) : $ait-dossier-status et le profil AITReferral contrôlent exactement cette liste", Units: "Unités",
		StepNames: map[string]string{
			rules.FactRCPDecision: "Décision de RCP", rules.FactAlgologyConsult: "Consultation d'algologie (consentement)",
			rules.FactAnaesthesiaVisit: "Consultation d'anesthésie", rules.FactPlanning: "Programmation",
			rules.FactPrescription: "Prescription intrathécale", rules.FactAdmission: "Hospitalisation",
			rules.FactImplantation: "Implantation", rules.FactDischarge: "Consultation de sortie",
			rules.FactFollowUp: "Suivi", rules.FactRefill: "Remplissage", rules.FactComplication: "Complication",
			rules.FactIRRCP: "RCP douleur complexe ou métastases osseuses", rules.FactIRConsultation: "Consultation pré-interventionnelle",
			rules.FactIRProcedure: "Geste de radiologie interventionnelle", rules.FactIRFollowUp: "Suivi à 1 mois"}},
}

var pageTemplate = template.Must(template.New("ig").Funcs(template.FuncMap{
	"upper":   strings.ToUpper,
	"resolve": mapping.ResolveCode,
}).Parse(`<!DOCTYPE html>
<html lang="{{if eq .Lang "fr"}}fr{{else}}en{{end}}"><head><meta charset="utf-8"><title>{{.L.Title}}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.5em;overflow:auto}</style>
</head><body>
<p><a href="{{.L.OtherHref}}">{{.L.Other}}</a></p>
<h1>{{.L.Title}}</h1>
<p>{{.L.Intro}}</p>
<h2 id="referral">{{.L.Referral}}</h2>
<p>{{.L.ReferralText}}</p>
<table><tr><th>{{.L.Code}}</th><th>ServiceRequest.code</th><th>{{.L.Source}}</th></tr>
{{range .Referrals}}<tr><td><code>{{resolve .Code}}</code></td><td>{{.Display}}</td><td>{{call $.Cite .Section}}</td></tr>
{{end}}</table>
<p>{{.L.Identity}}</p>
<h3 id="dossier">{{.L.Dossier}}</h3>
<table><tr><th></th><th>{{.L.Resource}}</th><th>{{.L.Code}}</th><th>{{.L.Units}}</th><th>{{.L.Source}}</th></tr>
{{range .Dossier}}<tr><td>{{.Element}}</td><td>{{.Resource}}</td><td><code>{{.Codes}}</code></td><td><code>{{.Units}}</code></td><td>{{.Source}}</td></tr>
{{end}}</table>
<h2 id="steps">{{.L.Steps}}</h2>
<p>{{.L.Placeholders}}</p>
{{range .Steps}}<section id="{{.Pathway}}-{{.Fact}}">
<h3>{{upper .Pathway}} · {{.Name}} <small>({{call $.Cite .Section}})</small></h3>
<table>
<tr><th>{{$.L.Resource}}</th><td><code>{{.Resource}}</code></td></tr>
<tr><th>{{$.L.Code}}</th><td><code>{{.CodeElement}}</code> = <code>{{.Code}}</code></td></tr>
<tr><th>{{$.L.Date}}</th><td><code>{{.DateElement}}</code></td></tr>
<tr><th>{{$.L.Actor}}</th><td><code>{{.ActorElement}}</code></td></tr>
{{if .Qualifiers}}<tr><th>{{$.L.Qualifiers}}</th><td><ul>{{range .Qualifiers}}<li><code>{{.Element}}</code> = <code>{{.Key}}</code>: {{.Meaning}}</li>{{end}}</ul></td></tr>{{end}}
{{if .Extensions}}<tr><th>{{$.L.Extensions}}</th><td><ul>{{range .Extensions}}<li><code>{{.Key}}</code> ({{.Type}}{{if .Unit}}, <code>{{.Unit}}</code>{{end}}): {{.Meaning}}</li>{{end}}</ul></td></tr>{{end}}
{{if .Needs}}<tr><th>{{$.L.Needs}}</th><td><ul>{{range .Needs}}<li>{{.}}</li>{{end}}</ul></td></tr>{{end}}
{{if .Actors}}<tr><th>{{$.L.Who}}</th><td><ul>{{range .Actors}}<li>{{.}}</li>{{end}}</ul></td></tr>{{end}}
{{if .Delays}}<tr><th>{{$.L.Delays}}</th><td><ul>{{range .Delays}}<li>{{.}}</li>{{end}}</ul></td></tr>{{end}}
</table>
{{if .Example}}<p>{{$.L.Example}}</p>
<pre class="example" data-pathway="{{.Pathway}}" data-fact="{{.Fact}}" data-resource="{{.Resource}}">{{.Example}}</pre>{{end}}
</section>
{{end}}
<h2 id="rules">{{.L.Catalogue}}</h2>
<table><tr><th></th><th></th><th>{{.L.Source}}</th></tr>
{{range .Catalogue}}<tr><td>{{.Kind}}</td><td>{{.Rule}}</td><td>{{.Source}}</td></tr>
{{end}}</table>
<h2 id="sources">{{.L.Sources}}</h2>
<ul>{{range .Sources}}<li><b>{{.Short}}</b>: {{.Title}}</li>{{end}}</ul>
</body></html>
`))
