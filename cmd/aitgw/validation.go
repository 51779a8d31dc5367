package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/profiles"
	"github.com/aitgw/aitgw/server"
)

// aitValidation checks every write: base R4 for every resource (the JSON schema of its
// type: elements, cardinalities, primitive formats, required codes), and the AIT
// guide's profiles it claims (profile rules, invariants with their seed sections,
// reference targets resolved in the store). Resources the server generates are
// validated the same way, without the store.
type aitValidation struct {
	v     *profiles.Validator
	store fhir.Store
}

// resolver reads references from the store, for reference-target and dossier checks.
func (a *aitValidation) resolver() profiles.Resolver {
	return profiles.ResolverFunc(func(ctx context.Context, ref string) ([]byte, error) {
		typ, id, ok := strings.Cut(ref, "/")
		if !ok || !fhir.IsResourceType(typ) || strings.Contains(id, "/") {
			return nil, nil
		}
		var body []byte
		err := a.store.View(ctx, func(tx fhir.Tx) error {
			rec, err := tx.Current(typ, id)
			if errors.Is(err, fhir.ErrNotFound) {
				return nil
			}
			if err == nil && !rec.Deleted {
				body = rec.Body
			}
			return err
		})
		return body, err
	})
}

// claims reports whether body, or a resource inside it (a Bundle entry, a contained
// resource), claims a profile of the guide in meta.profile.
func (a *aitValidation) claims(body []byte) bool {
	canonical := []byte(a.v.Package().Canonical)
	if !bytes.Contains(body, canonical) { // cheap test first: most writes claim nothing
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			if meta, ok := t["meta"].(map[string]any); ok {
				if ps, ok := meta["profile"].([]any); ok {
					for _, p := range ps {
						if s, ok := p.(string); ok && strings.HasPrefix(s, string(canonical)) {
							return true
						}
					}
				}
			}
			for k, c := range t {
				if k != "meta" && walk(c) {
					return true
				}
			}
		case []any:
			for _, c := range t {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	var doc any
	return json.Unmarshal(body, &doc) == nil && walk(doc)
}

// ValidateWrite checks one resource: a client's (see validate), or one the server
// generated.
func (a *aitValidation) ValidateWrite(typ string, body []byte, generated bool) *fhir.OperationOutcome {
	if generated {
		// inside the store's write transaction: references to the store are not
		// resolved (a read transaction there could deadlock the embedded store), and
		// checks that need their targets are warnings
		return a.v.Validate(body)
	}
	return a.validate(body)
}

// ValidateBundle checks a whole Bundle, its entries each by their own type.
func (a *aitValidation) ValidateBundle(body []byte) *fhir.OperationOutcome { return a.validate(body) }

// validate checks a client's resource or Bundle: base R4 always, and what it claims
// of the guide with the store to resolve references (only then: base R4 needs none).
func (a *aitValidation) validate(body []byte) *fhir.OperationOutcome {
	if !a.claims(body) {
		return a.v.Validate(body)
	}
	return a.v.ValidateWith(context.Background(), a.resolver(), body)
}

// conformanceTypes are the resource types the guide's package provides; they are
// served read-only from the package.
var conformanceTypes = map[string]bool{"StructureDefinition": true, "ValueSet": true, "CodeSystem": true, "SearchParameter": true,
	"OperationDefinition": true}

// seedPackage stores the guide's conformance resources so that they are read and
// searched (by url…) like any other, and only when the package changed.
func seedPackage(ctx context.Context, svc *rest.Service, pkg *profiles.Package) error {
	tgz, err := pkg.Tarball()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(tgz)
	digest := hex.EncodeToString(sum[:])
	var seen []byte
	if err := svc.Store.View(ctx, func(tx fhir.Tx) error {
		seen, err = tx.GetAux("profiles", "seeded")
		return err
	}); err != nil {
		return err
	}
	if string(seen) == digest {
		return nil
	}
	for _, r := range pkg.Resources() {
		if r.Example || !conformanceTypes[r.Type] {
			continue
		}
		if _, err := svc.Update(ctx, &rest.Request{Type: r.Type, ID: r.ID, Body: r.Body}); err != nil {
			return fmt.Errorf("profiles: seeding %s/%s: %w", r.Type, r.ID, err)
		}
	}
	return svc.Store.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux("profiles", "seeded", []byte(digest)) })
}

// readOnlyPackage refuses writes to the guide's own conformance resources.
func readOnlyPackage(pkg *profiles.Package) gin.HandlerFunc {
	ids := map[string]bool{}
	for _, r := range pkg.Resources() {
		if !r.Example && conformanceTypes[r.Type] {
			ids[r.Type+"/"+r.ID] = true
		}
	}
	return func(c *gin.Context) {
		req := server.RequestFrom(c)
		if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead || !conformanceTypes[req.Type] {
			return
		}
		if ids[req.Type+"/"+req.ID] || bytes.Contains(req.Body, []byte(`"url":"`+pkg.Canonical)) {
			c.Data(http.StatusMethodNotAllowed, server.ContentType, fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", req.Type,
				"%s of the AIT guide are served read-only from its package (%s %s)", req.Type, pkg.Name, pkg.Version).Outcome.JSON())
			c.Abort()
		}
	}
}

// validateOperation is $validate at type and instance level: the resource in the body
// (or a Parameters with resource, profile and mode), or the stored instance.
func validateOperation(svc *rest.Service, v *profiles.Validator, val *aitValidation) *server.Operation {
	return &server.Operation{
		Name: "validate", Types: []string{"Resource"}, Type: true, Instance: true,
		Definition: "http://hl7.org/fhir/OperationDefinition/Resource-validate",
		Run: func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
			body, profile, mode, err := validateInput(req)
			if err != nil {
				return nil, err
			}
			if len(body) == 0 && req.ID != "" {
				r, err := svc.Read(ctx, &rest.Request{Type: req.Type, ID: req.ID, Access: req.Access})
				if err != nil {
					return nil, err
				}
				body = r.Body
			}
			if len(body) == 0 {
				return nil, fhir.Errorf(http.StatusBadRequest, "required", "Parameters.parameter.where(name='resource')", "$validate needs a resource")
			}
			if mode == "delete" {
				return &rest.Response{Status: http.StatusOK, Body: fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational", Diagnostics: "no rule of the AIT guide forbids deleting this resource"}).JSON()}, nil
			}
			var asked []string
			if profile != "" {
				asked = []string{profile}
			}
			oo := v.ValidateWith(ctx, val.resolver(), body, asked...)
			if len(oo.Issue) == 0 {
				oo.Issue = append(oo.Issue, fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational", Diagnostics: "valid"})
			}
			return &rest.Response{Status: http.StatusOK, Body: oo.JSON()}, nil
		},
	}
}

// validateInput reads $validate's input: a Parameters resource, or the resource
// itself; profile and mode may also come from the query.
func validateInput(req *rest.Request) (body []byte, profile, mode string, err error) {
	profile, mode = req.Query.Get("profile"), req.Query.Get("mode")
	if len(bytes.TrimSpace(req.Body)) == 0 {
		return nil, profile, mode, nil
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name        string          `json:"name"`
			Resource    json.RawMessage `json:"resource"`
			ValueURI    string          `json:"valueUri"`
			ValueCanon  string          `json:"valueCanonical"`
			ValueString string          `json:"valueString"`
			ValueCode   string          `json:"valueCode"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(req.Body, &head); err != nil {
		return nil, "", "", fhir.Errorf(http.StatusBadRequest, "structure", "", "malformed JSON: %v", err)
	}
	if head.ResourceType != "Parameters" {
		return req.Body, profile, mode, nil
	}
	for _, p := range head.Parameter {
		switch p.Name {
		case "resource":
			body = p.Resource
		case "profile":
			profile = p.ValueURI + p.ValueCanon + p.ValueString
		case "mode":
			mode = p.ValueCode + p.ValueString
		}
	}
	return body, profile, mode, nil
}

// logBaseInvariants lists at start the base R4 invariants the validator does not
// evaluate with FHIRPath, and how many it does, so that none is skipped silently.
func logBaseInvariants(logger *slog.Logger) {
	list, err := profiles.UnevaluatedInvariants()
	if err != nil {
		logger.Error("base R4 invariants could not be loaded", "err", err)
		return
	}
	evaluated, total, _ := profiles.BaseInvariantCount()
	logger.Info("base R4 invariants", "evaluated", evaluated, "total", total)
	for _, u := range list {
		logger.Info("base R4 invariant not evaluated by FHIRPath", "key", u.Key, "reason", u.Reason)
	}
}
