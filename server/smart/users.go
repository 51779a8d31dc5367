package smart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
)

// nsUsers keeps the local user accounts.
const nsUsers = "smart.users"

// ScopeUsers lets an operator's token create user accounts at /auth/users.
const ScopeUsers = "aitgw/users"

// LocalUsers authenticates the hospital's users at the authorization endpoint with
// HTTP Basic against accounts kept in the store (bcrypt hashes), each bound to the
// user's FHIR identity. It is the built-in default so that the patient picker and the
// consent page never serve an anonymous caller; a deployment behind the hospital's
// identity provider plugs its own UserAuthenticator instead.
type LocalUsers struct{ KV KV }

type userRecord struct {
	FHIRUser string `json:"fhirUser"`
	Hash     []byte `json:"hash"`
}

// errLogin is any failed login; it says nothing of which part was wrong.
var errLogin = errors.New("smart: login required")

// Authenticate checks the request's Basic credentials.
func (u LocalUsers) Authenticate(r *http.Request) (string, error) {
	name, pass, ok := r.BasicAuth()
	if !ok || name == "" {
		return "", errLogin
	}
	raw, err := u.KV.Get(r.Context(), nsUsers, strings.ToLower(name))
	if err != nil || raw == nil {
		// spend the same time as a wrong password, so that user names do not leak
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z4oU3sLH9sE0pw4w3A8cPK4C"), []byte(pass))
		return "", errLogin
	}
	var rec userRecord
	if json.Unmarshal(raw, &rec) != nil || bcrypt.CompareHashAndPassword(rec.Hash, []byte(pass)) != nil {
		return "", errLogin
	}
	return rec.FHIRUser, nil
}

// Challenge is the WWW-Authenticate header of a refused login.
func (LocalUsers) Challenge() string { return `Basic realm="AIT Gateway", charset="UTF-8"` }

// ErrUserExists refuses to create an account over an existing one without replace.
var ErrUserExists = errors.New("smart: this user exists; give --replace to replace the account")

// normalUser is the key of an account: user names are case-insensitive.
func normalUser(name string) string { return strings.ToLower(name) }

// AddUser creates or replaces an account. The password must have at least 12
// characters; fhirUser is the user's Practitioner (or PractitionerRole…) reference.
func AddUser(ctx context.Context, kv KV, name, password, fhirUser string) error {
	return PutUser(ctx, kv, name, password, fhirUser, true)
}

// PutUser creates an account, or replaces one only when replace is set
// (ErrUserExists otherwise): an operator who reuses a name by mistake must not take
// over a colleague's account silently.
func PutUser(ctx context.Context, kv KV, name, password, fhirUser string, replace bool) error {
	if !replace {
		if b, err := kv.Get(ctx, nsUsers, normalUser(name)); err != nil {
			return err
		} else if b != nil {
			return ErrUserExists
		}
	}
	if name == "" || strings.ContainsAny(name, ":/ ") {
		return fmt.Errorf("smart: user name must be non-empty, without ':', '/' or spaces")
	}
	if len(password) < 12 {
		return fmt.Errorf("smart: password must have at least 12 characters")
	}
	if typ, _, ok := strings.Cut(fhirUser, "/"); !ok || (typ != "Practitioner" && typ != "PractitionerRole" && typ != "Patient" && typ != "RelatedPerson") {
		return fmt.Errorf("smart: fhirUser must be a Practitioner, PractitionerRole, Patient or RelatedPerson reference")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(userRecord{FHIRUser: fhirUser, Hash: hash})
	return putAccount(ctx, kv, nsUsers, normalUser(name), b)
}

// challenger is an authenticator that tells the browser how to log in.
type challenger interface{ Challenge() string }

// users is POST /auth/users {"user", "password", "fhirUser"} for an operator token
// with ScopeUsers.
func (s *AuthServer) users(c *gin.Context) {
	if !s.operatorGrant(c, ScopeUsers, "creating users") {
		return
	}
	var req struct {
		User, Password, FHIRUser string
		Replace                  bool
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10)).Decode(&req); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_request", `body must be {"user": …, "password": …, "fhirUser": "Practitioner/<id>"}`)
		return
	}
	if err := PutUser(c.Request.Context(), s.kv, req.User, req.Password, req.FHIRUser, req.Replace); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrUserExists) {
			status = http.StatusConflict
		}
		oauthError(c, status, "invalid_request", err.Error())
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"user": strings.ToLower(req.User), "fhirUser": req.FHIRUser})
}
