package main

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/profiles"
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
	guide, err := guideEntries()
	if err != nil {
		return nil, err
	}
	return web.Wrap(next, web.Config{BaseURL: cfg.base(), Software: "AIT Gateway", Version: version, Guide: guide})
}

// guideEntries lists the AIT guide's artefacts for the implementer guide's index.
func guideEntries() ([]web.GuideEntry, error) {
	pkg, err := profiles.Load()
	if err != nil {
		return nil, err
	}
	var out []web.GuideEntry
	for _, r := range pkg.Resources() {
		var m struct{ Name, Title, Description string }
		_ = json.Unmarshal(r.Body, &m) // shipped JSON, validated when the package loads
		title := m.Title
		if title == "" {
			title = m.Name
		}
		out = append(out, web.GuideEntry{Type: r.Type, ID: r.ID, URL: r.URL, Title: title, Description: m.Description, Example: r.Example})
	}
	return out, nil
}
