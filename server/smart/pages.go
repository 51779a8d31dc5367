package smart

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// securePage sets the headers of every HTML page: no framing (clickjacking of the
// consent), no scripts, no caching; forms post to this server only, and may end in a
// redirect to formTarget (the app's redirect URI origin: browsers apply form-action
// to the redirect too). The referrer policy keeps Origin and Referer on same-origin
// posts (the consent's origin check reads them) and drops them elsewhere.
func securePage(c *gin.Context, formTarget string) {
	fa := "'self'"
	if u, err := url.Parse(formTarget); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsAny(u.Host, " ;'\"") {
		fa += " " + u.Scheme + "://" + u.Host
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+fa+"; frame-ancestors 'none'")
	c.Header("X-Frame-Options", "DENY")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "same-origin")
}

// render writes a page of an authorization flow.
func render(c *gin.Context, t *template.Template, data map[string]any) {
	redirect := ""
	if ar, ok := data["Req"].(*authRequest); ok {
		redirect = ar.RedirectURI
	}
	securePage(c, redirect)
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = t.Execute(c.Writer, data)
}

// page writes a message page and ends the request.
func page(c *gin.Context, status int, title, msg string) {
	securePage(c, "")
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = messagePage.Execute(c.Writer, map[string]string{"Title": title, "Message": msg})
	c.Abort()
}

// scopeLine is one scope of the consent page: its code and what it allows, in words.
type scopeLine struct {
	Code, Text string
}

// otherScopeText says in French what each non-resource scope allows.
var otherScopeText = map[string]string{
	ScopeOpenID:        "Connaître votre identité (connexion OpenID).",
	ScopeFHIRUser:      "Connaître votre fiche professionnelle ou patient (fhirUser).",
	ScopeProfile:       "Connaître votre identité (profil).",
	ScopeLaunch:        "Recevoir le contexte de lancement du dossier (patient, venue).",
	ScopeLaunchPatient: "Travailler sur le patient choisi ci-dessus.",
	ScopeOfflineAccess: "Rester connectée à votre place, même après la fermeture de l'application (jeton de rafraîchissement).",
	ScopeOnlineAccess:  "Rester connectée tant que vous utilisez l'application (jeton de rafraîchissement, au plus 12 h).",
}

// permWords are the French verbs of the SMART permissions, in "cruds" order.
var permWords = []struct {
	p    Perm
	verb string
}{
	{PermCreate, "créer"}, {PermRead, "lire"}, {PermUpdate, "modifier"}, {PermDelete, "supprimer"}, {PermSearch, "rechercher"},
}

// contextWords say whose data a resource scope reaches.
var contextWords = map[string]string{
	ContextPatient: "du patient choisi uniquement",
	ContextUser:    "des patients que vous pouvez voir",
	ContextSystem:  "de tous les patients (accès système)",
}

// describeScopes turns a scope string into consent lines.
func describeScopes(scope string) []scopeLine {
	var out []scopeLine
	for _, f := range strings.Fields(scope) {
		if t, ok := otherScopeText[f]; ok {
			out = append(out, scopeLine{f, t})
			continue
		}
		rs, _, err := ParseScopes(f)
		if err != nil || len(rs) != 1 {
			out = append(out, scopeLine{f, "Permission propre à ce serveur."})
			continue
		}
		sc := rs[0]
		var verbs []string
		for _, pw := range permWords {
			if sc.Perms&pw.p != 0 {
				verbs = append(verbs, pw.verb)
			}
		}
		what := "toutes les données"
		if sc.ResourceType != "*" {
			what = "les ressources " + sc.ResourceType
		}
		text := strings.Join(verbs, ", ") + " " + what + " " + contextWords[sc.Context]
		if sc.Constraint != nil {
			text += ", restreint à " + sc.Constraint.Encode()
		}
		out = append(out, scopeLine{f, strings.ToUpper(text[:1]) + text[1:] + "."})
	}
	return out
}

const pageHead = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>AIT Gateway — autorisation</title>
<style>body{font-family:sans-serif;max-width:42em;margin:2em auto;padding:0 1em;color:#111}button{margin:.3em;padding:.5em 1em;font-size:1em}
label{display:block;padding:.4em 0}input[type=search]{font-size:1em;padding:.3em;width:60%}code{color:#333}.scope{margin:.4em 0}</style></head><body>`

// pageFuncs are the templates' helpers.
var pageFuncs = template.FuncMap{"frDate": frDate}

// frDate renders an R4 date (YYYY, YYYY-MM or YYYY-MM-DD) the French way (JJ/MM/AAAA).
func frDate(d string) string {
	if iso, ok := isoDate(d); ok && iso == d {
		return d[8:] + "/" + d[5:7] + "/" + d[:4]
	}
	if len(d) == 7 && d[4] == '-' {
		return d[5:] + "/" + d[:4]
	}
	return d
}

var (
	messagePage = template.Must(template.New("msg").Parse(pageHead +
		`<main><h1>{{.Title}}</h1><p>{{.Message}}</p></main></body></html>`))
	pickerPage = template.Must(template.New("picker").Funcs(pageFuncs).Parse(pageHead +
		`<main><h1>Choisir le patient</h1>
<p>L'application <b>{{if .Req.ClientName}}{{.Req.ClientName}}{{else}}{{.Req.ClientID}}{{end}}</b> demande à travailler sur le dossier d'un patient. Seuls les patients dont vous avez la charge sont proposés.</p>
<form method="post" action="/auth/authorize" role="search"><input type="hidden" name="req" value="{{.Req.ID}}"><input type="hidden" name="action" value="search">
<label for="q">Rechercher par nom, date de naissance (JJ/MM/AAAA) ou INS</label>
<input type="search" id="q" name="q" value="{{.Query}}"> <button type="submit">Rechercher</button></form>
<form method="post" action="/auth/authorize"><input type="hidden" name="req" value="{{.Req.ID}}"><input type="hidden" name="action" value="pick">
<fieldset><legend>Patients</legend>
{{range .Patients}}<label><input type="radio" name="patient" value="{{.ID}}" required> {{if .Name}}{{.Name}}{{else}}(sans nom){{end}}{{if .BirthDate}}, né(e) le {{frDate .BirthDate}}{{end}}{{if .INS}}, INS {{.INS}}{{end}}</label>
{{else}}<p>Aucun patient ne correspond.</p>{{end}}
{{if .More}}<p>D'autres patients correspondent : affinez la recherche.</p>{{end}}
</fieldset>
<button type="submit">Continuer</button></form></main></body></html>`))
	consentPage = template.Must(template.New("consent").Funcs(pageFuncs).Parse(pageHead +
		`<main><h1>Autoriser l'accès</h1>
<p>L'application <b>{{if .Req.ClientName}}{{.Req.ClientName}}{{else}}{{.Req.ClientID}}{{end}}</b> (identifiant {{.Req.ClientID}}) demande l'accès suivant{{if .Patient}} au dossier de :{{else}}.{{end}}</p>
{{if .Patient}}<p><b>{{if .Patient.Name}}{{.Patient.Name}}{{else}}Patient {{.Patient.ID}}{{end}}</b>{{if .Patient.BirthDate}}, né(e) le {{frDate .Patient.BirthDate}}{{end}}{{if .Patient.INS}}, INS {{.Patient.INS}}{{end}}</p>{{end}}
<h2>Ce que l'application pourra faire</h2>
<ul>{{range .Scopes}}<li class="scope">{{.Text}} <code>{{.Code}}</code></li>{{end}}</ul>
<form method="post" action="/auth/authorize"><input type="hidden" name="req" value="{{.Req.ID}}">
<button type="submit" name="action" value="approve">Autoriser</button>
<button type="submit" name="action" value="deny">Refuser</button></form></main></body></html>`))
)
