package main

import (
	"fmt"
	"os"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/pathway"
	"github.com/aitgw/aitgw/mapping/rules"
	"github.com/aitgw/aitgw/server"
)

// citeSources makes every OperationOutcome name the clinical sources by title beside
// their number (fhir.CiteSources).
func citeSources() { fhir.CiteSources = rules.CiteText }

// useSiteRules reads the site's rules file (serve --rules FILE, YAML or JSON) and
// makes its values those in effect. No file: the referential's defaults. A file that
// cannot be read, names an unknown setting, sets a value out of its allowed range or
// loosens a safety limit stops the start with a message naming each fault.
func useSiteRules(path string) error {
	if path == "" {
		rules.Use(nil)
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("rules file: %w", err)
	}
	site, err := rules.ParseSite(path, data)
	if err != nil {
		return err
	}
	rules.Use(site)
	return nil
}

// wireRules registers GET [base]/$ait-rules: the rule values in effect.
func wireRules(srv *server.Server) {
	srv.Operations().Add(&server.Operation{Name: "ait-rules", System: true,
		Definition: operationBase + "ait-rules", Run: pathway.Rules()})
}
