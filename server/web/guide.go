package web

import (
	"html/template"
	"net/http"
	"sort"
)

// GuideEntry is one artefact of the implementation guide as its index lists it.
type GuideEntry struct {
	// Type is the resourceType (StructureDefinition, CodeSystem…), ID its id.
	Type, ID string
	// URL is the canonical URL (empty for an example).
	URL string
	// Title (or Name) and Description come from the resource.
	Title, Description string
	// Example marks the guide's example instances.
	Example bool
}

// guidePage is the implementer guide's index at /ig/: every profile, extension,
// search parameter, operation, terminology and example of the package, by type, so
// that the landing page's link leads somewhere without a token. The package itself
// (/ig/package.tgz) holds the resources.
var guidePage = template.Must(template.New("guide").Parse(`<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Guide d'implémentation — {{.Software}}</title>
<link rel="stylesheet" href="/app/style.css">
</head>
<body class="landing">
<header class="banner"><p class="brand">{{.Software}} <span class="version">version {{.Version}}</span></p></header>
<main id="contenu">
<h1>Guide d'implémentation du parcours AIT</h1>
<p>Les profils, extensions, paramètres de recherche, terminologies et exemples que la passerelle applique.
Le paquet complet, pour les validateurs FHIR : <a href="/ig/package.tgz">package.tgz</a>.
La déclaration de capacités : <a href="/fhir/metadata">/fhir/metadata</a>. Retour à <a href="/">l'accueil</a>.</p>
{{range .Groups}}
<h2>{{.Title}}</h2>
<table>
<thead><tr><th scope="col">Nom</th><th scope="col">Identifiant</th><th scope="col">Description</th></tr></thead>
<tbody>
{{range .Entries}}<tr><td>{{if .Title}}{{.Title}}{{else}}{{.ID}}{{end}}</td><td><code>{{if .URL}}{{.URL}}{{else}}{{.Type}}/{{.ID}}{{end}}</code></td><td>{{.Description}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
</main>
</body>
</html>
`))

// guideGroups orders the index: conformance resources by type, then the examples.
var guideGroups = []struct{ Type, Title string }{
	{"StructureDefinition", "Profils et extensions"},
	{"SearchParameter", "Paramètres de recherche"},
	{"OperationDefinition", "Opérations"},
	{"CodeSystem", "Systèmes de codes"},
	{"ValueSet", "Jeux de valeurs"},
	{"ConceptMap", "Correspondances"},
	{"NamingSystem", "Systèmes d'identifiants"},
}

type guideGroup struct {
	Title   string
	Entries []GuideEntry
}

// guide renders the implementer guide's index.
func (h *Handler) guide(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	byType := map[string][]GuideEntry{}
	var examples, others []GuideEntry
	known := map[string]bool{}
	for _, g := range guideGroups {
		known[g.Type] = true
	}
	for _, e := range h.cfg.Guide {
		switch {
		case e.Example:
			examples = append(examples, e)
		case known[e.Type]:
			byType[e.Type] = append(byType[e.Type], e)
		default:
			others = append(others, e)
		}
	}
	var groups []guideGroup
	for _, g := range guideGroups {
		if len(byType[g.Type]) > 0 {
			groups = append(groups, guideGroup{g.Title, byType[g.Type]})
		}
	}
	if len(others) > 0 {
		groups = append(groups, guideGroup{"Autres ressources", others})
	}
	if len(examples) > 0 {
		sort.SliceStable(examples, func(i, j int) bool { return examples[i].Type < examples[j].Type })
		groups = append(groups, guideGroup{"Exemples", examples})
	}
	soft := h.cfg.Software
	if soft == "" {
		soft = "AIT Gateway"
	}
	_ = guidePage.Execute(w, map[string]any{"Software": soft, "Version": h.cfg.Version, "Groups": groups})
}
