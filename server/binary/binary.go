// Package binary serves the Binaries that hold patients' documents (the hub's stored
// summaries) as a document-based hub reads them: raw in their own content type (IHE
// ITI-68), and only to a reader of the patient they belong to. Binary lies outside the
// R4 patient compartment; its securityContext names the patient.
package binary

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/server/smart"
)

// OfPatient reports whether Binary/id's securityContext names Patient/patient. An
// unknown Binary answers false.
func OfPatient(tx fhir.Tx, id, patient string) (bool, error) {
	rec, err := tx.Current("Binary", id)
	if errors.Is(err, fhir.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var b struct {
		SecurityContext struct{ Reference string } `json:"securityContext"`
	}
	if rec.Deleted || json.Unmarshal(rec.Body, &b) != nil {
		return false, nil
	}
	ref, ok := strings.CutPrefix(b.SecurityContext.Reference, "Patient/")
	return ok && ref == patient, nil
}

// Confine is the check of a FHIR interaction (op, id) on Binary by a patient-context
// reader: read, vread and instance history of its own patient's Binaries only, and no
// search; nil when allowed.
func Confine(ctx context.Context, store fhir.Store, op, id, patient string) *fhir.Error {
	switch op {
	case "read", "vread", "history-instance":
		ok := false
		err := store.View(ctx, func(tx fhir.Tx) error {
			var err error
			ok, err = OfPatient(tx, id, patient)
			return err
		})
		if err == nil && ok {
			return nil
		}
		return fhir.Errorf(http.StatusForbidden, "security", "Binary.securityContext",
			"a patient-context token reads only the Binaries whose securityContext is its patient")
	}
	return fhir.Errorf(http.StatusForbidden, "security", "Binary.securityContext",
		"a patient-context token reaches Binaries through its DocumentReferences, by id")
}

// RawContent serves GET [base]/Binary/{id} asked with the Binary's own content type
// in Accept (application/pdf…) as the raw bytes with that Content-Type, as FHIR and
// ITI-68 specify; FHIR JSON requests go on to the read interaction. It runs after the
// token middleware and applies the same checks: read scope on Binary and, for a
// patient-context token, the securityContext.
func RawContent(store fhir.Store, base string) gin.HandlerFunc {
	prefix := strings.TrimRight(base, "/") + "/Binary/"
	return func(c *gin.Context) {
		r := c.Request
		id, ok := strings.CutPrefix(r.URL.Path, prefix)
		accept := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Accept"), ";")[0]))
		if !ok || r.Method != http.MethodGet || strings.Contains(id, "/") || accept == "" || strings.Contains(accept, "json") ||
			strings.Contains(accept, "*") || r.URL.Query().Get("_format") != "" {
			return
		}
		g := smart.GrantFrom(c)
		if g == nil || !g.Allows(smart.InteractionRead, "Binary") {
			smart.WriteError(c, fhir.Errorf(http.StatusForbidden, "security", "", "the access token does not allow reading Binary"))
			return
		}
		var bin struct {
			ContentType string `json:"contentType"`
			Data        []byte `json:"data"`
		}
		found, allowed := false, g.PatientContext() == ""
		err := store.View(r.Context(), func(tx fhir.Tx) error {
			rec, err := tx.Current("Binary", id)
			if err != nil || rec.Deleted {
				return nil
			}
			found = true
			if !allowed {
				if allowed, err = OfPatient(tx, id, g.PatientContext()); err != nil {
					return err
				}
			}
			return json.Unmarshal(rec.Body, &bin)
		})
		switch {
		case err != nil:
			smart.WriteError(c, fhir.Errorf(http.StatusInternalServerError, "exception", "", "cannot read the Binary"))
		case !found:
			smart.WriteError(c, fhir.Errorf(http.StatusNotFound, "not-found", "Binary.id", "Binary/%s is not known", id))
		case !allowed:
			smart.WriteError(c, fhir.Errorf(http.StatusForbidden, "security", "Binary.securityContext",
				"a patient-context token reads only the Binaries whose securityContext is its patient"))
		case !strings.EqualFold(bin.ContentType, accept):
			return // not its content type: FHIR negotiation answers (406 for what is not JSON)
		default:
			c.Data(http.StatusOK, bin.ContentType, bin.Data)
			c.Abort()
		}
	}
}
