package smart

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// confidential registers a client_secret_basic client on e and returns its basic
// credentials.
func confidential(t *testing.T, e *testEnv, id, scope string) []string {
	t.Helper()
	if err := AddClient(t.Context(), e.kv, Client{ID: id, Type: ClientConfidentialSymmetric, Secret: "s3cret-0123456789-" + id,
		RedirectURIs: []string{"https://app.example/cb"}, Scope: scope}); err != nil {
		t.Fatal(err)
	}
	return []string{id, "s3cret-0123456789-" + id}
}

// TestIntrospectionOfForgedToken: a forged, tampered, expired, unknown or revoked
// token is {"active": false} and nothing more; a live one carries its claims; an
// unauthenticated caller is refused.
func TestIntrospectionOfForgedToken(t *testing.T) {
	e := newEnv(t)
	rs := confidential(t, e, "rs", "system/*.rs "+ScopeIntrospect)
	mine := confidential(t, e, "app", "system/*.rs")
	live := signed(t, e, claimsFor(e, "patient/*.rs", "p1"))
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	foreign := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsFor(e, "patient/*.rs", "p1"))
	foreign.Header["kid"] = e.keys.Signer().KID
	forgedSig, _ := foreign.SignedString(other)
	expired := claimsFor(e, "patient/*.rs", "p1")
	expired.IssuedAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
	expired.NotBefore = expired.IssuedAt
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-50 * time.Minute))
	revoked := claimsFor(e, "patient/*.rs", "p1")
	revokedTok := signed(t, e, revoked)
	if err := e.auth.Revocations().Revoke(t.Context(), e.cfg.Issuer, revoked.ID, revoked.ExpiresAt.Time); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"forged signature": forgedSig, "tampered": live[:len(live)-3] + "xyz", "expired": signed(t, e, expired),
		"revoked": revokedTok, "garbage": "not-a-token", "unknown refresh token": randomToken(32),
	} {
		st, m := postForm(t, e.srv.URL+"/auth/introspect", url.Values{"token": {tok}}, rs)
		if st != 200 || m["active"] != false || len(m) != 1 {
			t.Errorf("%s: %d %v, want {active:false}", name, st, m)
		}
	}
	st, m := postForm(t, e.srv.URL+"/auth/introspect", url.Values{"token": {live}}, rs)
	if st != 200 || m["active"] != true || m["patient"] != "p1" || m["scope"] != "patient/*.rs" || m["client_id"] != "app" ||
		m["aud"] != e.cfg.BaseURL || m["iss"] != e.cfg.Issuer || m["iat"] == nil || m["exp"] == nil || m["sub"] != "app" {
		t.Errorf("live token: %d %v", st, m)
	}
	// without ScopeIntrospect a client sees only its own tokens
	if _, m := postForm(t, e.srv.URL+"/auth/introspect", url.Values{"token": {live}}, mine); m["active"] != true {
		t.Errorf("the token's own client: %v", m)
	}
	third := confidential(t, e, "third", "system/*.rs")
	if _, m := postForm(t, e.srv.URL+"/auth/introspect", url.Values{"token": {live}}, third); m["active"] != false {
		t.Errorf("another client introspected a token not its own: %v", m)
	}
	if st, _ := postForm(t, e.srv.URL+"/auth/introspect", url.Values{"token": {live}}, nil); st != 401 {
		t.Errorf("unauthenticated introspection: %d", st)
	}
	// a resource server with a Bearer token granted aitgw/introspect
	for scope, want := range map[string]any{ScopeIntrospect: true, "system/*.rs": nil} {
		rsTok, _ := MintToken(e.cfg.DataDir, e.cfg, scope, time.Minute)
		req, _ := http.NewRequest("POST", e.srv.URL+"/auth/introspect", strings.NewReader(url.Values{"token": {live}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+rsTok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if m["active"] != want {
			t.Errorf("Bearer %s: %d %v", scope, resp.StatusCode, m)
		}
	}
}

// TestRefreshTokenReuseRevokesFamily: rotation returns a new refresh token each time;
// presenting a used one revokes the family, the newer refresh token and the access
// tokens included, and the revocation survives a restart (a new server on the same
// store).
func TestRefreshTokenReuseRevokesFamily(t *testing.T) {
	e := newEnv(t)
	scope := "launch/patient offline_access patient/Patient.rs"
	a := newApp(t, e, scope)
	_, tok := a.redeem(a.authorize(scope, "", "p1").Get("code"), a.verifier)
	rt1, at1 := tok["refresh_token"].(string), tok["access_token"].(string)
	refresh := func(rt string) (int, map[string]any) {
		return postForm(t, e.srv.URL+"/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {a.id}}, nil)
	}
	st, tok2 := refresh(rt1)
	if st != 200 || tok2["refresh_token"] == rt1 {
		t.Fatalf("rotation: %d %v", st, tok2)
	}
	rt2, at2 := tok2["refresh_token"].(string), tok2["access_token"].(string)
	if r := e.do(t, "GET", "/fhir/Patient/p1", at2); r.StatusCode != 200 {
		t.Fatalf("refreshed token: %d", r.StatusCode)
	}
	if st, m := refresh(rt1); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("reuse: %d %v", st, m)
	}
	if st, _ := refresh(rt2); st != 400 {
		t.Errorf("the newer refresh token survived the reuse: %d", st)
	}
	for _, at := range []string{at1, at2} {
		if r := e.do(t, "GET", "/fhir/Patient/p1", at); r.StatusCode != 401 {
			t.Errorf("access token of the revoked family: %d", r.StatusCode)
		}
	}
	restarted, err := NewVerifier(e.cfg, e.keys)
	if err != nil {
		t.Fatal(err)
	}
	restarted.Revocations = NewRevocations(e.kv)
	if _, err := restarted.Verify(t.Context(), at2); err == nil {
		t.Errorf("a restarted verifier accepts a revoked token")
	}
}

// TestRevocationEndpoint: RFC 7009, a client revokes its own access token (refused
// from then on) and its refresh token (the family dies); another client's token is
// left alone, and the answer is 200 either way.
func TestRevocationEndpoint(t *testing.T) {
	e := newEnv(t)
	scope := "launch/patient offline_access patient/Patient.rs"
	a := newApp(t, e, scope)
	_, tok := a.redeem(a.authorize(scope, "", "p1").Get("code"), a.verifier)
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	other := confidential(t, e, "other", "system/*.rs")
	if st, _ := postForm(t, e.srv.URL+"/auth/revoke", url.Values{"token": {at}}, other); st != 200 {
		t.Errorf("revoking another client's token: %d, want 200", st)
	}
	if r := e.do(t, "GET", "/fhir/Patient/p1", at); r.StatusCode != 200 {
		t.Fatalf("another client revoked the token: %d", r.StatusCode)
	}
	if st, _ := postForm(t, e.srv.URL+"/auth/revoke", url.Values{"token": {at}, "client_id": {a.id}}, nil); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	if r := e.do(t, "GET", "/fhir/Patient/p1", at); r.StatusCode != 401 {
		t.Errorf("revoked access token: %d", r.StatusCode)
	}
	if st, _ := postForm(t, e.srv.URL+"/auth/revoke", url.Values{"token": {rt}, "client_id": {a.id}}, nil); st != 200 {
		t.Fatalf("revoke refresh: %d", st)
	}
	if st, _ := postForm(t, e.srv.URL+"/auth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {a.id}}, nil); st != 400 {
		t.Errorf("revoked refresh token: %d", st)
	}
}

// TestTokenHeaderAndLifetimeRules: an unknown crit header is refused; so is a token
// living longer than the maximum, or without exp; operator tokens may live 24 h.
func TestTokenHeaderAndLifetimeRules(t *testing.T) {
	e := newEnv(t)
	c := claimsFor(e, "system/*.rs", "")
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = e.keys.Signer().KID
	tok.Header["crit"] = []string{"b64"}
	tok.Header["b64"] = true
	crit, _ := tok.SignedString(e.keys.Signer().Private)
	if _, err := e.ver.Verify(t.Context(), crit); err == nil || !strings.Contains(err.Error(), "crit") {
		t.Errorf("crit header: %v", err)
	}
	long := claimsFor(e, "system/*.rs", "")
	long.ExpiresAt = jwt.NewNumericDate(time.Now().Add(2 * time.Hour))
	if _, err := e.ver.Verify(t.Context(), signed(t, e, long)); err == nil || !strings.Contains(err.Error(), "lifetime") {
		t.Errorf("2 h token: %v", err)
	}
	noExp := claimsFor(e, "system/*.rs", "")
	noExp.ExpiresAt = nil
	if _, err := e.ver.Verify(t.Context(), signed(t, e, noExp)); err == nil {
		t.Errorf("token without exp accepted")
	}
	op := long
	op.ClientID = OperatorClientID
	if _, err := e.ver.Verify(t.Context(), signed(t, e, op)); err != nil {
		t.Errorf("2 h operator token: %v", err)
	}
}

// TestRotatedKeyVerifiesAtOnce: right after "keys rotate", a token signed with the new
// key verifies, although the verifier reloaded its keys moments ago.
func TestRotatedKeyVerifiesAtOnce(t *testing.T) {
	e := newEnv(t)
	if _, err := e.ver.Verify(t.Context(), signed(t, e, claimsFor(e, "system/*.rs", ""))); err != nil {
		t.Fatal(err)
	}
	if err := RotateKeys(e.cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	tok, err := MintToken(e.cfg.DataDir, e.cfg, "system/*.rs", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ver.Verify(t.Context(), tok); err != nil {
		t.Errorf("token of the rotated key: %v", err)
	}
}

// TestExternalJWKSRefreshedOnTimer: a key the external issuer withdraws stops being
// trusted once the refresh interval has passed, though no unknown kid was seen and
// tokens it signed were already verified.
func TestExternalJWKSRefreshedOnTimer(t *testing.T) {
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	set := func(k *rsa.PrivateKey, kid string) []byte {
		j := publicJWK(k.Public())
		j["kid"], j["alg"] = kid, "RS256"
		b, _ := json.Marshal(map[string]any{"keys": []any{j}})
		return b
	}
	var current atomic.Value
	current.Store(set(k1, "k1"))
	var fetches atomic.Int32
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = w.Write(current.Load().([]byte))
	}))
	defer idp.Close()
	cfg := Config{BaseURL: "https://gw.example/fhir", ExternalIssuer: "https://idp.example", JWKSURL: idp.URL,
		JWKSRefresh: 100 * time.Millisecond}
	v, err := NewVerifier(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://idp.example", "aud": cfg.BaseURL,
		"sub": "app", "scope": "system/*.rs", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "j1"})
	tok.Header["kid"] = "k1"
	raw, _ := tok.SignedString(k1)
	if _, err := v.Verify(t.Context(), raw); err != nil {
		t.Fatal(err)
	}
	current.Store(set(k2, "k2")) // the issuer withdraws k1
	time.Sleep(150 * time.Millisecond)
	if _, err := v.Verify(t.Context(), raw); err == nil {
		t.Errorf("a withdrawn key is still trusted after the refresh interval")
	}
	if fetches.Load() < 2 {
		t.Errorf("the JWK Set was fetched %d times", fetches.Load())
	}
}

// careStub is a PatientAccess: Practitioner/dr1 cares for p1, Patient/X sees X.
type careStub struct{}

func (careStub) PatientsInCare(_ context.Context, fhirUser string) (Care, error) {
	switch {
	case fhirUser == "Practitioner/dr1":
		return Care{Patients: map[string]bool{"p1": true}}, nil
	case fhirUser == "Practitioner/coord":
		return Care{All: true}, nil
	case strings.HasPrefix(fhirUser, "Patient/"):
		return Care{Patients: map[string]bool{strings.TrimPrefix(fhirUser, "Patient/"): true}}, nil
	}
	return Care{}, nil
}

// headerUser authenticates whoever the X-Test-User header names.
type headerUser struct{}

func (headerUser) Authenticate(r *http.Request) (string, error) {
	if u := r.Header.Get("X-Test-User"); u != "" {
		return u, nil
	}
	return "", errLogin
}

// TestPickerAndPatientBinding: the picker lists only the user's patients; picking or
// launching with another is refused at the authorization endpoint, and a code for
// another patient (planted in the store) is refused at the token endpoint.
func TestPickerAndPatientBinding(t *testing.T) {
	e := newEnv(t)
	e.auth.Access, e.auth.Users = careStub{}, headerUser{}
	scope := "launch/patient patient/Patient.rs"
	a := newApp(t, e, scope+" launch")
	start := func(user, launch string) (*http.Response, string) {
		q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {a.redirect}, "scope": {scope},
			"aud": {e.cfg.BaseURL}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		if launch != "" {
			q.Set("launch", launch)
			q.Set("scope", "launch patient/Patient.rs")
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/auth/authorize?"+q.Encode(), nil)
		req.Header.Set("X-Test-User", user)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(resp.Body)
		return resp, b.String()
	}
	for user, want := range map[string][]string{"Practitioner/dr1": {"p1"}, "Patient/p2": {"p2"}, "Practitioner/coord": {"p1", "p2"}, "Practitioner/nobody": nil} {
		_, body := start(user, "")
		var got []string
		for _, m := range patientField.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, want) {
			t.Errorf("picker of %s lists %v, want %v", user, got, want)
		}
	}
	_, body := start("Patient/p2", "")
	f := url.Values{"req": {reqField.FindStringSubmatch(body)[1]}, "action": {"pick"}, "patient": {"p1"}}
	resp, err := e.postPage(f, http.Header{"X-Test-User": {"Patient/p2"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 {
		t.Errorf("Patient/p2 picking p1: %d", resp.StatusCode)
	}
	launch, _ := e.auth.MintLaunch(t.Context(), LaunchContext{Patient: "p1"})
	if r, _ := start("Patient/p2", launch); r.StatusCode != 302 || !strings.Contains(r.Header.Get("Location"), "error=access_denied") {
		t.Errorf("EHR launch of p1 for Patient/p2: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	// a code for p1 issued to Patient/p2 (as a bug upstream might) is refused at the token endpoint
	cr := codeRecord{authRequest: authRequest{ClientID: a.id, RedirectURI: a.redirect, Scope: scope, Patient: "p1",
		FHIRUser: "Patient/p2", Challenge: sha256Challenge(a.verifier), Expires: time.Now().Add(time.Minute)}, Code: "planted"}
	b, _ := json.Marshal(cr)
	_ = e.kv.Put(t.Context(), nsCodes, "planted", b)
	if st, m := a.redeem("planted", a.verifier); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("code for another patient redeemed: %d %v", st, m)
	}
}

// TestConsentFormChecks: posts from another origin (Origin, or Referer without
// Origin, or the opaque "null") are refused, as is an unknown request id (the forms'
// anti-forgery token); the consent page describes each scope in French.
func TestConsentFormChecks(t *testing.T) {
	e := newEnv(t)
	scope := "launch/patient openid offline_access patient/Patient.rs"
	a := newApp(t, e, scope)
	q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {a.redirect}, "scope": {scope},
		"aud": {e.cfg.BaseURL}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	resp, err := noRedirect.Get(e.srv.URL + "/auth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b := new(bytes.Buffer)
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	form := url.Values{"req": {reqField.FindStringSubmatch(b.String())[1]}, "action": {"pick"}, "patient": {"p1"}}
	for name, h := range map[string]http.Header{
		"foreign origin":  {"Origin": {"https://evil.example"}},
		"opaque origin":   {"Origin": {"null"}},
		"foreign referer": {"Origin": nil, "Referer": {"https://evil.example/page"}},
	} {
		if r, _ := e.postPage(form, h); r.StatusCode != 403 {
			t.Errorf("%s: %d", name, r.StatusCode)
		}
	}
	bad := url.Values{"req": {randomToken(24)}, "action": {"pick"}, "patient": {"p1"}}
	if r, _ := e.postPage(bad, nil); r.StatusCode != 400 {
		t.Errorf("forged request id: %d", r.StatusCode)
	}
	r, _ := e.postPage(form, nil)
	page := new(bytes.Buffer)
	_, _ = page.ReadFrom(r.Body)
	for _, want := range []string{"Care plan viewer", "Test One", "01/01/1950", "Lire, rechercher les ressources Patient du patient choisi uniquement", "Rester connectée"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("consent lacks %q", want)
		}
	}
}

// TestPickerQuery: name words (accents ignored), birth dates in both notations and
// identifiers find a patient.
func TestPickerQuery(t *testing.T) {
	p := PatientSummary{ID: "x", Name: "Hélène Dupont", BirthDate: "1950-02-03", Identifiers: []string{"250029912345678"}}
	for q, want := range map[string]bool{"": true, "helene": true, "DUPONT hél": true, "martin": false, "03/02/1950": true,
		"1950-02-03": true, "1950-02-04": false, "250 029 912 345 678": true, "250029912345679": false} {
		if p.Matches(q) != want {
			t.Errorf("%q: %v", q, !want)
		}
	}
}

var (
	reqField     = regexpMust(`name="req" value="([^"]+)"`)
	patientField = regexpMust(`name="patient" value="([^"]+)"`)
)

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// sha256Challenge is the PKCE S256 challenge of a verifier.
func sha256Challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestOpenIDConfigurationMatchesSMART: the OpenID discovery document answers without
// a token (at the root and under the base) and names the same issuer and endpoints as
// the SMART configuration.
func TestOpenIDConfigurationMatchesSMART(t *testing.T) {
	e := newEnv(t)
	get := func(p string) map[string]any {
		r := e.do(t, "GET", p, "")
		defer r.Body.Close()
		var m map[string]any
		if r.StatusCode != 200 || json.NewDecoder(r.Body).Decode(&m) != nil {
			t.Fatalf("GET %s: %d", p, r.StatusCode)
		}
		return m
	}
	oidc, sc := get("/.well-known/openid-configuration"), get("/fhir/.well-known/smart-configuration")
	for _, k := range []string{"issuer", "jwks_uri", "authorization_endpoint", "token_endpoint", "userinfo_endpoint",
		"introspection_endpoint", "revocation_endpoint", "registration_endpoint"} {
		if oidc[k] == nil || oidc[k] != sc[k] {
			t.Errorf("%s: %v vs %v", k, oidc[k], sc[k])
		}
	}
	if fmt.Sprint(oidc["subject_types_supported"]) != "[public]" || fmt.Sprint(oidc["id_token_signing_alg_values_supported"]) != "[RS256]" {
		t.Errorf("openid-configuration %v", oidc)
	}
}

// TestPatientUserLinkedThroughRelatedPerson: a Patient user may launch for the
// patients they are linked to as an active RelatedPerson, and for nobody else.
func TestPatientUserLinkedThroughRelatedPerson(t *testing.T) {
	s := careStore(t, map[string]string{
		"Patient/mum":          `{"resourceType":"Patient","id":"mum","link":[{"other":{"reference":"RelatedPerson/r1"},"type":"seealso"},{"other":{"reference":"RelatedPerson/r2"},"type":"seealso"},{"other":{"reference":"Patient/x"},"type":"seealso"}]}`,
		"RelatedPerson/r1":     `{"resourceType":"RelatedPerson","id":"r1","active":true,"patient":{"reference":"Patient/child"}}`,
		"RelatedPerson/r2":     `{"resourceType":"RelatedPerson","id":"r2","active":false,"patient":{"reference":"Patient/former"}}`,
		"RelatedPerson/orphan": `{"resourceType":"RelatedPerson","id":"orphan","patient":{"reference":"Patient/other"}}`,
	})
	c, err := StoreCare{Store: s}.PatientsInCare(t.Context(), "Patient/mum")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.IDs(); !slices.Equal(got, []string{"child", "mum"}) {
		t.Errorf("Patient/mum may launch for %v, want [child mum]", got)
	}
	if c, _ := (StoreCare{Store: s}).PatientsInCare(t.Context(), "Patient/child"); !slices.Equal(c.IDs(), []string{"child"}) {
		t.Errorf("Patient/child may launch for %v", c.IDs())
	}
}
