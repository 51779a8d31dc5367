package web

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aitgw/aitgw/server/smart"
)

// ClientID is the pathway view's SMART client id.
const ClientID = "aitgw-pathway-view"

// Scope is what the pathway view may be granted: an EHR or standalone launch with a
// patient context, the user's identity, and reading (never writing) FHIR data.
const Scope = "launch launch/patient openid fhirUser patient/*.rs user/*.rs"

// PathwayViewClient is the app's registration: a public client (PKCE, no secret: a
// browser keeps none) whose only redirect URIs are the gateway's own app page.
func PathwayViewClient(origin string) smart.Client {
	origin = strings.TrimRight(origin, "/")
	return smart.Client{ID: ClientID, Name: "Parcours AIT (vue clinicien)", Type: smart.ClientPublic,
		RedirectURIs: []string{origin + "/app/", origin + "/app/index.html"}, Scope: Scope}
}

// RegisterPathwayView registers the app with the built-in authorization server at
// start, and only writes when the registration differs from the stored one (a
// restart, or another gateway on the same store, leaves it as it is).
func RegisterPathwayView(ctx context.Context, kv smart.KV, origin string) error {
	want := PathwayViewClient(origin)
	have, err := smart.GetClient(ctx, kv, want.ID)
	if err != nil {
		return err
	}
	if have != nil && have.Type == want.Type && have.Name == want.Name && have.Scope == want.Scope &&
		slices.Equal(have.RedirectURIs, want.RedirectURIs) {
		return nil
	}
	return smart.AddClient(ctx, kv, want)
}

// appConfig is /app/config.json: what launch.html needs to start a launch.
type appConfig struct {
	ClientID string `json:"clientId"`
	Scope    string `json:"scope"`
	FHIRBase string `json:"fhirBase"`
}

func appConfigJSON(base string) ([]byte, error) {
	return json.Marshal(appConfig{ClientID: ClientID, Scope: Scope, FHIRBase: strings.TrimRight(base, "/")})
}
