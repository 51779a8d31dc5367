// Package smart implements SMART on FHIR (App Launch 2.0 and Backend Services) for the
// gateway: the resource-server side (token verification, scopes, patient compartment,
// gin middleware, audit events) and a built-in authorization server (discovery, PKCE
// authorization code, refresh tokens, client_credentials with private_key_jwt).
//
// It is a library: the server package wires Verifier.Middleware on the /fhir group,
// AuthServer.Register on the root router, enforces Grant.Allows and the compartment per
// interaction, and stores the AuditEvent of every access.
package smart

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// Perm is a set of SMART v2 permissions (the letters of "cruds").
type Perm uint8

// The SMART v2 permissions. v1 ".read" is PermRead|PermSearch, ".write" is
// PermCreate|PermUpdate|PermDelete, ".*" is all five.
const (
	PermCreate Perm = 1 << iota // c: type-level create
	PermRead                    // r: read, vread, instance history
	PermUpdate                  // u: update, patch
	PermDelete                  // d: delete
	PermSearch                  // s: search and type/system history

	PermAll = PermCreate | PermRead | PermUpdate | PermDelete | PermSearch
)

// permLetters is the canonical order of v2 permission letters; the spec requires it.
const permLetters = "cruds"

// String renders p as v2 letters, in canonical order.
func (p Perm) String() string {
	var b strings.Builder
	for i := 0; i < len(permLetters); i++ {
		if p&(1<<i) != 0 {
			b.WriteByte(permLetters[i])
		}
	}
	return b.String()
}

// Scope contexts: whose data a resource scope reaches.
const (
	ContextPatient = "patient" // the patient in context, and only that patient
	ContextUser    = "user"    // whatever the user (fhirUser) may see
	ContextSystem  = "system"  // backend services, no user
)

// Scope is one parsed SMART resource scope, e.g. "patient/CarePlan.rs?status=active".
type Scope struct {
	Raw          string
	Context      string // ContextPatient, ContextUser or ContextSystem
	ResourceType string // a FHIR type or "*"
	Perms        Perm
	// Constraint holds the v2 "?param=value" query restriction; nil when none.
	Constraint url.Values
	// V2 reports the ".cruds" syntax rather than ".read"/".write"/".*".
	V2 bool
}

// Non-resource scopes understood by the built-in server.
const (
	ScopeOpenID        = "openid"
	ScopeFHIRUser      = "fhirUser"
	ScopeProfile       = "profile"
	ScopeLaunch        = "launch"
	ScopeLaunchPatient = "launch/patient"
	ScopeOfflineAccess = "offline_access"
	ScopeOnlineAccess  = "online_access"
	// ScopeRegister lets an operator's token call the dynamic client registration
	// endpoint; nothing else grants it (no open registration on a hospital gateway).
	ScopeRegister = "aitgw/register"
	// ScopeMintLaunch lets an EHR (or the operator) mint launch contexts at
	// /auth/launch.
	ScopeMintLaunch = "aitgw/launch"
)

// AuditScope is the administrator scope for reading the audit trail. AuditEvent is
// excluded from wildcard scopes ("system/*.cruds" does not reach it) and no token may
// write it: only the gateway records access. Accepted forms: system/ or user/
// AuditEvent with r and/or s ("system/AuditEvent.rs", v1 "user/AuditEvent.read").
const AuditScope = "system/AuditEvent.rs"

// auditType is the resource type that wildcards never reach.
const auditType = "AuditEvent"

// ParseScope parses one resource scope in v1 or v2 syntax.
func ParseScope(s string) (Scope, error) {
	sc := Scope{Raw: s}
	rest := s
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		q, err := url.ParseQuery(rest[i+1:])
		if err != nil || len(q) == 0 {
			return sc, fmt.Errorf("scope %q: malformed ?param=value constraint", s)
		}
		sc.Constraint = q
		rest = rest[:i]
	}
	ctx, res, ok := strings.Cut(rest, "/")
	if !ok {
		return sc, fmt.Errorf("scope %q: not context/Type.permissions", s)
	}
	switch ctx {
	case ContextPatient, ContextUser, ContextSystem:
		sc.Context = ctx
	default:
		return sc, fmt.Errorf("scope %q: context must be patient, user or system", s)
	}
	typ, perms, ok := strings.Cut(res, ".")
	if !ok || typ == "" || perms == "" {
		return sc, fmt.Errorf("scope %q: not context/Type.permissions", s)
	}
	if typ != "*" && !fhir.IsResourceType(typ) {
		return sc, fmt.Errorf("scope %q: %q is not an R4 resource type", s, typ)
	}
	sc.ResourceType = typ
	switch perms {
	case "read":
		sc.Perms = PermRead | PermSearch
	case "write":
		sc.Perms = PermCreate | PermUpdate | PermDelete
	case "*":
		sc.Perms = PermAll
	default:
		p, err := parsePermLetters(perms)
		if err != nil {
			return sc, fmt.Errorf("scope %q: %v", s, err)
		}
		sc.Perms, sc.V2 = p, true
	}
	if sc.Constraint != nil && !sc.V2 {
		return sc, fmt.Errorf("scope %q: ?param constraints need v2 permissions (.cruds)", s)
	}
	return sc, nil
}

// parsePermLetters reads v2 letters, which must be a non-empty subsequence of "cruds".
func parsePermLetters(s string) (Perm, error) {
	var p Perm
	next := 0
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(permLetters[next:], s[i])
		if j < 0 {
			return 0, fmt.Errorf("permissions %q are not a subsequence of \"cruds\"", s)
		}
		next += j + 1
		p |= 1 << (next - 1)
	}
	return p, nil
}

// ParseScopes splits a space-separated OAuth scope string into resource scopes and the
// other scopes (openid, launch, offline_access…). A malformed resource-looking scope is
// an error, so a typo never silently widens or narrows access.
func ParseScopes(s string) (resource []Scope, other []string, err error) {
	for _, f := range strings.Fields(s) {
		if isResourceScope(f) {
			sc, err := ParseScope(f)
			if err != nil {
				return nil, nil, err
			}
			resource = append(resource, sc)
			continue
		}
		other = append(other, f)
	}
	return resource, other, nil
}

// isResourceScope tells "patient/X.y" from "launch/patient" and friends.
func isResourceScope(s string) bool {
	for _, c := range []string{ContextPatient, ContextUser, ContextSystem} {
		if strings.HasPrefix(s, c+"/") {
			return true
		}
	}
	return false
}

// matchesType reports whether the scope's type reaches typ; wildcards stop at
// AuditEvent (see AuditScope).
func (s Scope) matchesType(typ string) bool {
	if s.ResourceType == typ {
		return true
	}
	return s.ResourceType == "*" && typ != auditType
}

// Covers reports whether s grants at least everything o asks: same context, a type at
// least as wide, a superset of permissions and a constraint no narrower.
func (s Scope) Covers(o Scope) bool {
	if s.Context != o.Context || s.Perms&o.Perms != o.Perms {
		return false
	}
	if s.ResourceType != "*" && s.ResourceType != o.ResourceType {
		return false
	}
	if s.ResourceType == "*" && o.ResourceType == auditType {
		return false
	}
	for k, vs := range s.Constraint {
		if strings.Join(o.Constraint[k], ",") != strings.Join(vs, ",") {
			return false
		}
	}
	return true
}

// Interaction is a FHIR RESTful interaction a request performs, mapped onto the SMART
// v2 permissions by Perm.
type Interaction int

// The interactions. Operations ($everything, $validate…) that only read are checked as
// InteractionOperation (search permission); operations that write must be checked as
// InteractionCreate or InteractionUpdate on each type they write.
const (
	InteractionRead Interaction = iota + 1
	InteractionVRead
	InteractionHistoryInstance
	InteractionCreate
	InteractionUpdate
	InteractionPatch
	InteractionDelete
	InteractionSearch
	InteractionHistoryType
	InteractionOperation
)

// interactionTable maps each interaction to its permission (SMART App Launch 2.0 §
// "Scopes for requesting FHIR Resources") and its FHIR restful-interaction code.
var interactionTable = map[Interaction]struct {
	perm Perm
	code string // http://hl7.org/fhir/restful-interaction
	act  string // AuditEvent.action
}{
	InteractionRead:            {PermRead, "read", "R"},
	InteractionVRead:           {PermRead, "vread", "R"},
	InteractionHistoryInstance: {PermRead, "history-instance", "R"},
	InteractionCreate:          {PermCreate, "create", "C"},
	InteractionUpdate:          {PermUpdate, "update", "U"},
	InteractionPatch:           {PermUpdate, "patch", "U"},
	InteractionDelete:          {PermDelete, "delete", "D"},
	InteractionSearch:          {PermSearch, "search-type", "E"},
	InteractionHistoryType:     {PermSearch, "history-type", "R"},
	InteractionOperation:       {PermSearch, "operation", "E"},
}

// Perm is the SMART permission the interaction needs; 0 for an unknown interaction.
func (i Interaction) Perm() Perm { return interactionTable[i].perm }

// String is the FHIR restful-interaction code.
func (i Interaction) String() string {
	if c := interactionTable[i].code; c != "" {
		return c
	}
	return "unknown"
}

// writes reports whether the interaction changes data.
func (i Interaction) writes() bool {
	return i.Perm()&(PermCreate|PermUpdate|PermDelete) != 0
}
