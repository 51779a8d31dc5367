package web

import (
	"html/template"
	"net/http"
	"strings"
)

// landingPage says what the gateway is and where to go: the app, the implementer
// guide, the CapabilityStatement and the guide's package.
var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Software}} — passerelle FHIR du parcours d'analgésie intrathécale</title>
<link rel="stylesheet" href="/app/style.css">
</head>
<body class="landing">
<header class="banner"><p class="brand">{{.Software}} <span class="version">version {{.Version}}</span></p></header>
<main id="contenu">
<h1>Passerelle FHIR du parcours d'analgésie intrathécale (AIT)</h1>
<p>{{.Software}} est une passerelle d'interopérabilité <abbr title="Fast Healthcare Interoperability Resources" lang="en">FHIR</abbr> R4
pour le parcours de soins de l'analgésie intrathécale des douleurs cancéreuses réfractaires, et pour le parcours voisin
de radiologie interventionnelle de la douleur. Elle reçoit les adressages et les étapes du parcours envoyés par les
logiciels des établissements, vérifie le dossier et les délais du référentiel régional, tient le plan de soins de chaque
patient, et prévient le médecin traitant, le médecin adresseur et les équipes aux étapes prévues.</p>
<h2>Accès</h2>
<ul class="links">
<li><a href="/app/launch.html">Vue du parcours (application SMART on FHIR)</a> — pour les cliniciens : dossier, étapes,
pompe et remplissages, doses intrathécales, alertes et courriers d'un patient. Connexion requise.</li>
<li><a href="/ig/">Guide d'implémentation</a> — profils, extensions, opérations et exemples, pour les éditeurs.</li>
<li><a href="/fhir/metadata"><span lang="en">CapabilityStatement</span> du serveur FHIR</a> — ce que le serveur accepte
(<code>{{.Base}}</code>).</li>
<li><a href="/ig/package.tgz">Paquet du guide d'implémentation (<code>package.tgz</code>)</a> — pour les validateurs FHIR.</li>
<li><a href="/.well-known/smart-configuration">Configuration SMART on FHIR</a> — points d'autorisation et de jeton.</li>
</ul>
<h2>Pour les éditeurs</h2>
<p>L'API FHIR est à <code>{{.Base}}</code>. Chaque requête porte un jeton d'accès OAuth 2.0 (SMART App Launch ou
SMART Backend Services) ; les portées et le compartiment du patient s'appliquent à chaque accès.</p>
</main>
</body>
</html>
`))

// landing renders the landing page.
func (h *Handler) landing(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	soft := h.cfg.Software
	if soft == "" {
		soft = "AIT Gateway"
	}
	_ = landingPage.Execute(w, map[string]string{"Software": soft, "Version": h.cfg.Version,
		"Base": strings.TrimRight(h.cfg.BaseURL, "/")})
}
