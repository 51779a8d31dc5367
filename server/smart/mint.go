package smart

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// OperatorClientID is the client_id of tokens minted by MintToken (for the audit
// trail: these come from the host's operator, not from a registered client).
const OperatorClientID = "aitgw-operator"

// MintToken signs an access token for the operator of the host with the built-in key
// under dataDir (it reads the private key: whoever can run it owns the gateway). ttl
// is capped at MaxTokenTTL; scope may hold any scopes, e.g. "system/*.cruds".
func MintToken(dataDir string, cfg Config, scope string, ttl time.Duration) (string, error) {
	return MintContextToken(dataDir, cfg, scope, "", "", ttl)
}

// MintContextToken is MintToken with a launch context: the patient in context (for
// patient/ scopes) and the fhirUser, so that an operator can check what an app
// launched for that patient or user would reach.
func MintContextToken(dataDir string, cfg Config, scope, patient, fhirUser string, ttl time.Duration) (string, error) {
	cfg.BuiltIn, cfg.DataDir = true, dataDir
	cfg, err := cfg.normalize()
	if err != nil {
		return "", err
	}
	if _, _, err := ParseScopes(scope); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > MaxTokenTTL {
		return "", fmt.Errorf("smart: token lifetime must be in (0, %s]", MaxTokenTTL)
	}
	ks, err := OpenKeyset(dataDir)
	if err != nil {
		return "", err
	}
	return signAccess(ks, cfg, tokenContext{ClientID: OperatorClientID, Scope: scope, Patient: patient, FHIRUser: fhirUser}, ttl, time.Now())
}

// LaunchContext is what an EHR hands an app it launches.
type LaunchContext struct {
	Patient   string    `json:"patient,omitempty"`
	Encounter string    `json:"encounter,omitempty"`
	FHIRUser  string    `json:"fhirUser,omitempty"`
	Expires   time.Time `json:"expires"`
}

// MintLaunch stores an EHR launch context and returns the opaque "launch" value to
// pass to the app (with iss = BaseURL). It is usable once, within LaunchTTL.
func (s *AuthServer) MintLaunch(ctx context.Context, lc LaunchContext) (string, error) {
	lc.Expires = s.now().Add(LaunchTTL)
	b, _ := json.Marshal(lc)
	id := randomToken(24)
	if err := s.kv.Put(ctx, nsLaunch, id, b); err != nil {
		return "", err
	}
	return id, nil
}

// consumeLaunch returns and deletes a launch context; nil when unknown or expired.
func (s *AuthServer) consumeLaunch(c *gin.Context, id string) (*LaunchContext, error) {
	ctx := c.Request.Context()
	b, err := s.kv.Get(ctx, nsLaunch, id)
	if err != nil || b == nil {
		return nil, err
	}
	if first, err := s.kv.PutNew(ctx, nsCodeUsed, "launch\x00"+id, []byte{1}); err != nil || !first {
		return nil, err
	}
	_ = s.kv.Put(ctx, nsLaunch, id, nil)
	var lc LaunchContext
	if err := json.Unmarshal(b, &lc); err != nil || s.now().After(lc.Expires) {
		return nil, err
	}
	return &lc, nil
}

// launch is the EHR side of an EHR launch: an EHR holding a token with ScopeMintLaunch
// posts {"patient": …, "encounter": …, "fhirUser": …} and gets the opaque launch
// value to hand to the app with iss = the FHIR base.
func (s *AuthServer) launch(c *gin.Context) {
	raw, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		oauthError(c, http.StatusUnauthorized, "invalid_token", "minting a launch needs a token with scope "+ScopeMintLaunch)
		return
	}
	g, err := s.verifier.Verify(c.Request.Context(), raw)
	if err != nil || !g.HasScope(ScopeMintLaunch) {
		oauthError(c, http.StatusForbidden, "insufficient_scope", "minting a launch needs scope "+ScopeMintLaunch)
		return
	}
	var lc LaunchContext
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10)).Decode(&lc); err != nil || lc.Patient == "" {
		oauthError(c, http.StatusBadRequest, "invalid_request", `body must be {"patient": "<id>", "fhirUser": "Practitioner/<id>"}`)
		return
	}
	id, err := s.MintLaunch(c.Request.Context(), lc)
	if err != nil {
		oauthError(c, http.StatusInternalServerError, "server_error", "cannot store the launch")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"launch": id, "iss": s.cfg.BaseURL})
}
