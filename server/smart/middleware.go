package smart

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
)

// grantKey is the gin context key of the verified grant.
const grantKey = "aitgw.smart.grant"

// GrantFrom returns the grant the middleware verified for this request; nil on the
// open paths.
func GrantFrom(c *gin.Context) *Grant {
	if g, ok := c.Get(grantKey); ok {
		gr, _ := g.(*Grant)
		return gr
	}
	return nil
}

// open reports the paths served without a token: the capability statement, the
// discovery documents and the authorization server's own endpoints.
func (v *Verifier) open(method, path string) bool {
	base := v.base
	switch path {
	case base + "/metadata":
		return method == http.MethodGet || method == http.MethodHead
	case "/.well-known/smart-configuration", base + "/.well-known/smart-configuration",
		"/.well-known/openid-configuration", base + "/.well-known/openid-configuration":
		return method == http.MethodGet || method == http.MethodHead
	}
	// the implementation guide package is public, as published IGs are
	return strings.HasPrefix(path, "/auth/") || path == "/ig/package.tgz"
}

// Middleware authenticates every request but the open ones (401 with
// WWW-Authenticate: Bearer and an OperationOutcome on failure), stores the Grant for
// GrantFrom, and refuses (403) what the path alone shows the scopes do not allow:
// the interaction on the type, and another patient's Patient resource or compartment
// for a patient-scoped grant. Everything finer (search results, _include, chains,
// transactions entries, operations' effects) is the server's to confine with
// Grant.PatientScoped, CompartmentParams and Grant.Constraints. Tokens and patient
// data are never logged.
func (v *Verifier) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		path := c.Request.URL.Path
		if v.open(c.Request.Method, path) {
			c.Next()
			return
		}
		raw, ok := bearer(c.Request.Header.Get("Authorization"))
		if !ok {
			v.deny(c, unauthorized("an Authorization: Bearer access token is required"), "")
			return
		}
		g, err := v.Verify(c.Request.Context(), raw)
		if err != nil {
			v.deny(c, fhir.AsError(err), "invalid_token")
			return
		}
		c.Set(grantKey, g)
		base := v.base
		if path == base || strings.HasPrefix(path, base+"/") {
			if ferr := CheckAccess(g, Classify(c.Request.Method, strings.TrimPrefix(path, base))); ferr != nil {
				v.deny(c, ferr, "insufficient_scope")
				return
			}
		}
		c.Next()
	}
}

// CheckAccess is the path-level authorization of one request: nil when the grant may
// go on, a 403 otherwise. System-level requests pass: the server checks them per type.
func CheckAccess(g *Grant, a Access) *fhir.Error {
	if a.System {
		return nil
	}
	if a.Interaction == 0 {
		return forbidden("", "the request is not a FHIR interaction on %s this token may perform", a.ResourceType)
	}
	if !g.Allows(a.Interaction, a.ResourceType) {
		return forbidden("", "no granted scope allows %s on %s (needs %s/%s.%s)",
			a.Interaction, a.ResourceType, "patient|user|system", a.ResourceType, a.Interaction.Perm())
	}
	p := g.PatientContext()
	if p == "" || !g.PatientScoped(a.Interaction, a.ResourceType) {
		// a user/ grant of a Patient user is confined to that patient (see Access)
		if p = g.Access().Patient(a.Interaction.String(), a.ResourceType); p == "" {
			return nil
		}
	}
	if a.Compartment != "" && a.Compartment != p {
		return forbidden("Patient.id", "a patient-context token reaches only its patient's compartment")
	}
	if a.ResourceType == "Patient" && a.ID != "" && a.ID != p {
		return forbidden("Patient.id", "a patient-context token reaches only its own Patient resource")
	}
	return nil
}

// forbidden is a 403 with issue code "security".
func forbidden(expr, format string, args ...any) *fhir.Error {
	return fhir.Errorf(http.StatusForbidden, "security", expr, format, args...)
}

// bearer extracts the token of an "Authorization: Bearer" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// deny aborts with the OperationOutcome of e and the RFC 6750 challenge.
func (v *Verifier) deny(c *gin.Context, e *fhir.Error, code string) {
	ch := fmt.Sprintf("Bearer realm=%q", v.cfg.BaseURL)
	if code != "" {
		desc := ""
		if len(e.Outcome.Issue) > 0 {
			desc = strings.ReplaceAll(e.Outcome.Issue[0].Diagnostics, `"`, "'")
		}
		ch += fmt.Sprintf(", error=%q, error_description=%q", code, desc)
	}
	c.Header("WWW-Authenticate", ch)
	c.Data(e.Status, "application/fhir+json", e.Outcome.JSON())
	c.Abort()
}

// WriteError renders a *fhir.Error as the middleware does, for the server's own scope
// and compartment refusals.
func WriteError(c *gin.Context, e *fhir.Error) {
	c.Data(e.Status, "application/fhir+json", e.Outcome.JSON())
	c.Abort()
}
