package smart

import (
	"iter"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Grant is what a verified access token allows: who asks (client, user), for whom
// (patient context) and what (scopes).
type Grant struct {
	ClientID string
	// FHIRUser is the user's FHIR resource URL or reference (user scopes); empty for
	// backend services.
	FHIRUser string
	// Patient is the id of the patient in context; a patient-scoped access is confined
	// to that patient's compartment.
	Patient   string
	Encounter string
	Subject   string
	Issuer    string
	TokenID   string // jti, for audit correlation
	Expiry    time.Time
	IssuedAt  time.Time
	Scopes    []Scope
	// Other holds the non-resource scopes (openid, launch, offline_access…).
	Other []string
}

// Allows reports whether some scope of the grant permits the interaction on
// resourceType. AuditEvent is reachable only by an explicit AuditEvent scope and never
// writable (see AuditScope). Patient scopes count only when a patient is in context.
func (g *Grant) Allows(in Interaction, resourceType string) bool {
	if g == nil {
		return false
	}
	for range g.allowing(in, resourceType) {
		return true
	}
	return false
}

// allowing yields the scopes that permit the interaction, in grant order. It is an
// iterator rather than a slice: every request asks it several times, and a slice was
// an allocation each.
func (g *Grant) allowing(in Interaction, resourceType string) iter.Seq[Scope] {
	return func(yield func(Scope) bool) {
		need := in.Perm()
		if need == 0 || (resourceType == auditType && in.writes()) {
			return
		}
		for _, s := range g.Scopes {
			if s.Perms&need == 0 || !s.matchesType(resourceType) {
				continue
			}
			if s.Context == ContextPatient && g.Patient == "" {
				continue
			}
			if !yield(s) {
				return
			}
		}
	}
}

// PatientScoped reports whether the interaction is allowed only through patient/
// scopes, in which case the server must confine it to PatientContext()'s compartment
// (read, search, _include/_revinclude targets, chains, history, operations, transaction
// entries). A user/ or system/ scope for the same access lifts the confinement.
func (g *Grant) PatientScoped(in Interaction, resourceType string) bool {
	allowed := false
	for s := range g.allowing(in, resourceType) {
		if s.Context != ContextPatient {
			return false
		}
		allowed = true
	}
	if !allowed {
		return g.PatientContext() != "" // nothing allows it: deny-side stays confined
	}
	return true
}

// PatientContext is the id of the patient in context ("" without one).
func (g *Grant) PatientContext() string {
	if g == nil {
		return ""
	}
	return g.Patient
}

// Constraints returns the v2 "?param=value" restrictions on searching and reading
// resourceType: the server must AND each url.Values into the query and OR the list.
// nil means unconstrained (or not allowed at all: check Allows first).
func (g *Grant) Constraints(resourceType string) []url.Values {
	return g.ConstraintsFor(InteractionSearch, resourceType)
}

// ConstraintsFor is Constraints for any interaction.
func (g *Grant) ConstraintsFor(in Interaction, resourceType string) []url.Values {
	var out []url.Values
	for s := range g.allowing(in, resourceType) {
		if s.Constraint == nil {
			return nil // one unconstrained scope lifts them all
		}
		out = append(out, s.Constraint)
	}
	return out
}

// HasScope reports whether a non-resource scope (openid, offline_access…) was granted.
func (g *Grant) HasScope(name string) bool {
	return g != nil && slices.Contains(g.Other, name)
}

// ScopeString renders the grant's scopes as an OAuth scope string.
func (g *Grant) ScopeString() string {
	out := make([]string, 0, len(g.Scopes)+len(g.Other))
	for _, s := range g.Scopes {
		out = append(out, s.Raw)
	}
	out = append(out, g.Other...)
	return strings.Join(out, " ")
}
