package main

import (
	"context"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/server/smart"
	"github.com/aitgw/aitgw/server/web"
)

// wireWeb puts the landing page (/), the guide's index (/ig/) and the pathway view (/app/) in front of the
// gateway's handler, and registers the view as a SMART client of the built-in
// authorization server (a public client whose redirect URIs are the gateway's own).
func wireWeb(cfg *config, store fhir.Store, next http.Handler) (http.Handler, error) {
	if cfg.smart().BuiltIn {
		if err := web.RegisterPathwayView(context.Background(), smart.StoreKV{Store: store}, cfg.origin()); err != nil {
			return nil, err
		}
	}
	return web.Wrap(next, web.Config{BaseURL: cfg.base(), Software: "AIT Gateway", Version: version})
}
