package smart

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// postForm posts a form (with optional basic auth) and decodes the JSON answer.
func postForm(t testing.TB, u string, f url.Values, basic []string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestBackendServices: a backend client signs an ES384 assertion with golang-jwt, gets
// a system token cut down to its registered scopes, and reads with it.
func TestBackendServices(t *testing.T) {
	e := newEnv(t)
	key, set := clientKey(t)
	if err := AddClient(t.Context(), e.kv, Client{ID: "hub", Type: ClientConfidentialAsymmetric, JWKS: set, Scope: "system/CarePlan.rs system/Patient.rs"}); err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.RegisteredClaims{Issuer: "hub", Subject: "hub",
		Audience: jwt.ClaimStrings{e.cfg.TokenURL()}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(5 * time.Minute)), ID: "once"})
	tok.Header["kid"] = "backend-1"
	a, _ := tok.SignedString(key)
	st, body := postForm(t, e.srv.URL+"/auth/token", url.Values{"grant_type": {"client_credentials"},
		"scope": {"system/CarePlan.rs system/Observation.rs"}, "client_assertion_type": {jwtBearer}, "client_assertion": {a}}, nil)
	if st != 200 {
		t.Fatalf("token: %d %v", st, body)
	}
	if body["scope"] != "system/CarePlan.rs" || body["token_type"] != "Bearer" || body["expires_in"].(float64) <= 0 || body["refresh_token"] != nil {
		t.Fatalf("token response %v", body)
	}
	at := body["access_token"].(string)
	if r := e.do(t, "GET", "/fhir/CarePlan?status=active", at); r.StatusCode != 200 {
		t.Errorf("search CarePlan: %d", r.StatusCode)
	}
	if r := e.do(t, "GET", "/fhir/Observation", at); r.StatusCode != 403 {
		t.Errorf("Observation not granted, got %d", r.StatusCode)
	}
	if r := e.do(t, "POST", "/fhir/CarePlan", at); r.StatusCode != 403 {
		t.Errorf("create with rs scope, got %d", r.StatusCode)
	}
	// A public client cannot use client_credentials.
	st, _ = postForm(t, e.srv.URL+"/auth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"hub"}}, nil)
	if st != 401 {
		t.Errorf("client_credentials without assertion: %d", st)
	}
}

// app is a browser-less SMART app for the code flow tests.
type app struct {
	t        *testing.T
	e        *testEnv
	id       string
	redirect string
	verifier string
}

func newApp(t *testing.T, e *testEnv, scope string) *app {
	a := &app{t: t, e: e, id: "careplan-app", redirect: "https://app.example/cb", verifier: randomToken(40)}
	if err := AddClient(t.Context(), e.kv, Client{ID: a.id, Name: "Care plan viewer", Type: ClientPublic,
		RedirectURIs: []string{a.redirect}, Scope: scope}); err != nil {
		t.Fatal(err)
	}
	return a
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize runs /auth/authorize, picks patient (if asked) and approves; it returns
// the redirect's query.
func (a *app) authorize(scope, launch, patient string) url.Values {
	sum := sha256.Sum256([]byte(a.verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {a.redirect}, "scope": {scope},
		"state": {"st8"}, "aud": {a.e.cfg.BaseURL}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}, "nonce": {"n0"}}
	if launch != "" {
		q.Set("launch", launch)
	}
	resp, err := noRedirect.Get(a.e.srv.URL + "/auth/authorize?" + q.Encode())
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if resp.StatusCode == http.StatusFound {
			loc, _ := url.Parse(resp.Header.Get("Location"))
			return loc.Query()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			a.t.Fatalf("authorize page %d: %s", resp.StatusCode, body)
		}
		req := regexp.MustCompile(`name="req" value="([^"]+)"`).FindSubmatch(body)
		if req == nil {
			a.t.Fatalf("no form: %s", body)
		}
		f := url.Values{"req": {string(req[1])}, "action": {"approve"}}
		if strings.Contains(string(body), `value="pick"`) {
			f.Set("action", "pick")
			f.Set("patient", patient)
		}
		if resp, err = a.e.postPage(f, nil); err != nil {
			a.t.Fatal(err)
		}
	}
	a.t.Fatal("authorize did not redirect")
	return nil
}

// postPage posts a picker or consent form as the browser does from the server's own
// page (with its Origin), with extra headers.
func (e *testEnv) postPage(f url.Values, header http.Header) (*http.Response, error) {
	req, _ := http.NewRequest("POST", e.srv.URL+"/auth/authorize", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	for k, v := range header {
		req.Header[k] = v
	}
	return noRedirect.Do(req)
}

func (a *app) redeem(code string, verifier string) (int, map[string]any) {
	return postForm(a.t, a.e.srv.URL+"/auth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {a.redirect}, "client_id": {a.id}, "code_verifier": {verifier}}, nil)
}

// TestStandaloneLaunchPKCE: picker, consent, PKCE S256, patient context, refresh
// rotation and id_token.
func TestStandaloneLaunchPKCE(t *testing.T) {
	e := newEnv(t)
	scope := "launch/patient openid fhirUser offline_access patient/CarePlan.rs patient/Patient.rs"
	a := newApp(t, e, scope)
	q := a.authorize(scope+" patient/Observation.cruds", "", "p1")
	if q.Get("state") != "st8" || q.Get("code") == "" {
		t.Fatalf("redirect %v", q)
	}
	if st, body := a.redeem(q.Get("code"), randomToken(40)); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", st, body)
	}
	// The failed attempt burnt the code (one use).
	if st, _ := a.redeem(q.Get("code"), a.verifier); st != 400 {
		t.Fatalf("code reused: %d", st)
	}
	q = a.authorize(scope, "", "p1")
	st, body := a.redeem(q.Get("code"), a.verifier)
	if st != 200 || body["patient"] != "p1" || !strings.Contains(body["scope"].(string), "patient/CarePlan.rs") || body["refresh_token"] == nil {
		t.Fatalf("token: %d %v", st, body)
	}
	if strings.Contains(body["scope"].(string), "Observation") {
		t.Errorf("scope not cut to the client's registration: %v", body["scope"])
	}
	if _, ok := body["id_token"]; ok {
		t.Errorf("id_token without a known user")
	}
	at := body["access_token"].(string)
	if r := e.do(t, "GET", "/fhir/Patient/p1", at); r.StatusCode != 200 {
		t.Errorf("own patient: %d", r.StatusCode)
	}
	if r := e.do(t, "GET", "/fhir/Patient/p2", at); r.StatusCode != 403 {
		t.Errorf("other patient: %d", r.StatusCode)
	}
	rt := body["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {a.id}}
	st, body = postForm(t, e.srv.URL+"/auth/token", refresh, nil)
	if st != 200 || body["patient"] != "p1" || body["refresh_token"] == rt {
		t.Fatalf("refresh: %d %v", st, body)
	}
	if st, _ = postForm(t, e.srv.URL+"/auth/token", refresh, nil); st != 400 {
		t.Errorf("refresh token reused: %d", st)
	}
}

// TestEHRLaunch: a launch minted by the EHR carries patient and user; id_token names
// the user.
func TestEHRLaunch(t *testing.T) {
	e := newEnv(t)
	scope := "launch openid fhirUser user/CarePlan.rs patient/CarePlan.rs"
	a := newApp(t, e, scope)
	launch, err := e.auth.MintLaunch(t.Context(), LaunchContext{Patient: "p2", FHIRUser: "Practitioner/dr1"})
	if err != nil {
		t.Fatal(err)
	}
	q := a.authorize(scope, launch, "")
	st, body := a.redeem(q.Get("code"), a.verifier)
	if st != 200 || body["patient"] != "p2" {
		t.Fatalf("token: %d %v", st, body)
	}
	idt, ok := body["id_token"].(string)
	if !ok {
		t.Fatalf("no id_token: %v", body)
	}
	var c jwt.MapClaims
	if _, err := jwt.ParseWithClaims(idt, &c, func(*jwt.Token) (any, error) { return e.keys.Signer().Private.Public(), nil },
		jwt.WithAudience(a.id), jwt.WithIssuer(e.cfg.Issuer)); err != nil {
		t.Fatal(err)
	}
	if c["fhirUser"] != e.cfg.BaseURL+"/Practitioner/dr1" || c["nonce"] != "n0" {
		t.Errorf("id_token claims %v", c)
	}
	// The launch is single-use.
	if q := a.authorize(scope, launch, ""); q.Get("error") != "invalid_request" {
		t.Errorf("launch reused: %v", q)
	}
}

// TestAuthorizeRefusals: unregistered redirect is never followed; missing PKCE and
// wrong aud come back as OAuth errors on the registered redirect.
func TestAuthorizeRefusals(t *testing.T) {
	e := newEnv(t)
	a := newApp(t, e, "launch/patient patient/*.rs")
	base := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {a.redirect}, "scope": {"patient/*.rs"},
		"aud": {e.cfg.BaseURL}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	try := func(k, v string) *http.Response {
		q := url.Values{}
		for kk, vv := range base {
			q[kk] = vv
		}
		q.Set(k, v)
		resp, err := noRedirect.Get(e.srv.URL + "/auth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := try("redirect_uri", "https://evil.example/cb"); r.StatusCode != 400 || r.Header.Get("Location") != "" {
		t.Errorf("unregistered redirect: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	for _, kv := range [][2]string{{"code_challenge_method", "plain"}, {"aud", "https://other/fhir"}, {"scope", "system/*.cruds"}} {
		r := try(kv[0], kv[1])
		loc, _ := url.Parse(r.Header.Get("Location"))
		if r.StatusCode != 302 || loc.Query().Get("error") == "" {
			t.Errorf("%s=%s: %d %v", kv[0], kv[1], r.StatusCode, loc)
		}
	}
}

// TestDiscovery checks the smart-configuration members the issue lists.
func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	resp := e.do(t, "GET", "/fhir/.well-known/smart-configuration", "")
	var d map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint", "grant_types_supported", "scopes_supported", "capabilities"} {
		if d[k] == nil {
			t.Errorf("missing %s", k)
		}
	}
	if d["token_endpoint"] != e.cfg.TokenURL() {
		t.Errorf("token_endpoint %v", d["token_endpoint"])
	}
	b, _ := json.Marshal(d)
	for _, s := range []string{`"code_challenge_methods_supported":["S256"]`, `"private_key_jwt"`, `"client_secret_basic"`, `"launch-ehr"`, `"permission-v2"`, `"client-confidential-asymmetric"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("discovery lacks %s", s)
		}
	}
}
