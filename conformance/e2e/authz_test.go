package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The SMART attack catalogue of issues #14 and #15 (authorization server side),
// against the real binary.

const password = "correct horse battery"

// careWorld: Practitioner dr1 cares for pa (named author of pa's CarePlan), not for
// pb; coord holds the coordinating algologist role and sees both.
func seedCare(t *testing.T, g *Gateway) {
	t.Helper()
	c := g.Client()
	for _, r := range []struct{ path, body string }{
		{"Practitioner/dr1", `{"resourceType":"Practitioner","id":"dr1","name":[{"family":"Martin"}]}`},
		{"Practitioner/coord", `{"resourceType":"Practitioner","id":"coord","name":[{"family":"Durand"}]}`},
		{"PractitionerRole/coord-role", `{"resourceType":"PractitionerRole","id":"coord-role","active":true,"practitioner":{"reference":"Practitioner/coord"},"code":[{"coding":[{"system":"https://fhir.aitgw.org/ig/ait/CodeSystem/ait-practitioner-role","code":"algologist"}]}]}`},
		{"Patient/pa", `{"resourceType":"Patient","id":"pa","name":[{"family":"Alpha","given":["Rosé"]}],"birthDate":"1950-02-03","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"250029912345678"}]}`},
		{"Patient/pb", `{"resourceType":"Patient","id":"pb","name":[{"family":"Beta","given":["Paul"]}],"birthDate":"1961-07-08"}`},
		{"CarePlan/cpa", `{"resourceType":"CarePlan","id":"cpa","status":"active","intent":"plan","subject":{"reference":"Patient/pa"},"author":{"reference":"Practitioner/dr1"}}`},
		{"CarePlan/cpb", `{"resourceType":"CarePlan","id":"cpb","status":"active","intent":"plan","subject":{"reference":"Patient/pb"}}`},
	} {
		if resp, err := c.Do("PUT", r.path, []byte(r.body), nil); err != nil || resp.Status >= 300 {
			t.Fatalf("seed %s: %v %s", r.path, err, resp)
		}
	}
	addUser(t, g, "dr.martin", "Practitioner/dr1", password)
	addUser(t, g, "dr.durand", "Practitioner/coord", password)
	addUser(t, g, "rose", "Patient/pa", password)
}

const patientScope = "launch/patient openid fhirUser offline_access patient/Patient.rs patient/CarePlan.rs"

// TestCORS: a SMART app in a browser on an allowed origin gets its preflights
// answered before authentication on every endpoint it calls, and the FHIR headers
// exposed; an origin that is not allowed gets no Access-Control-Allow-Origin.
func TestCORS(t *testing.T) {
	g, err := Start(context.Background(), binary, t.TempDir(), "--cors-origin", "https://app.example")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	origin, _ := url.Parse(g.BaseURL)
	root := origin.Scheme + "://" + origin.Host
	paths := []string{g.BaseURL + "/Patient", g.BaseURL + "/metadata", root + "/.well-known/smart-configuration",
		g.BaseURL + "/.well-known/smart-configuration", root + "/.well-known/openid-configuration",
		root + "/auth/token", root + "/auth/introspect", root + "/auth/revoke", root + "/auth/userinfo", root + "/auth/jwks"}
	preflight := func(u, from string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", u, nil)
		req.Header.Set("Origin", from)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	t.Run("preflight before authentication", func(t *testing.T) {
		for _, u := range paths {
			resp := preflight(u, "https://app.example")
			if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
				t.Errorf("preflight %s: %d, Allow-Origin %q", u, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	})
	t.Run("FHIR headers exposed", func(t *testing.T) {
		r, err := g.Client().Do("GET", "Patient", nil, map[string]string{"Origin": "https://app.example"})
		if err != nil {
			t.Fatal(err)
		}
		exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
		if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("GET from an allowed origin: Allow-Origin %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
		for _, h := range []string{"location", "etag", "content-location", "last-modified"} {
			if !strings.Contains(exposed, h) {
				t.Errorf("%s not exposed: %q", h, exposed)
			}
		}
	})
	t.Run("origin not allowed", func(t *testing.T) {
		for _, u := range paths {
			if resp := preflight(u, "https://evil.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("preflight %s from a foreign origin allowed", u)
			}
		}
		r, err := g.Client().Do("GET", "Patient", nil, map[string]string{"Origin": "https://evil.example"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET from a foreign origin carries Allow-Origin %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("capability statement tells the truth", func(t *testing.T) {
		r, err := g.Client().Do("GET", "metadata", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var cs struct {
			Rest []struct {
				Security struct {
					CORS *bool `json:"cors"`
				} `json:"security"`
			} `json:"rest"`
		}
		if json.Unmarshal(r.Body, &cs) != nil || len(cs.Rest) == 0 || cs.Rest[0].Security.CORS == nil || !*cs.Rest[0].Security.CORS {
			t.Errorf("rest.security.cors is not true while CORS is on: %.200s", r.Body)
		}
	})
}

// TestOpenIDDiscovery: /.well-known/openid-configuration answers without a token,
// agrees with the SMART configuration, and userinfo names the user of a token.
func TestOpenIDDiscovery(t *testing.T) {
	g := startGateway(t)
	u, _ := url.Parse(g.BaseURL)
	root := u.Scheme + "://" + u.Host
	get := func(p string) map[string]any {
		resp, err := http.Get(p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&m) != nil {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		return m
	}
	oidc, smartConf, under := get(root+"/.well-known/openid-configuration"), get(root+"/.well-known/smart-configuration"),
		get(g.BaseURL+"/.well-known/openid-configuration")
	for _, k := range []string{"issuer", "jwks_uri", "authorization_endpoint", "token_endpoint", "userinfo_endpoint",
		"introspection_endpoint", "revocation_endpoint"} {
		if oidc[k] == nil || oidc[k] != smartConf[k] || under[k] != oidc[k] {
			t.Errorf("%s: openid %v, smart %v, under the base %v", k, oidc[k], smartConf[k], under[k])
		}
	}
	for _, k := range []string{"subject_types_supported", "id_token_signing_alg_values_supported", "response_types_supported", "scopes_supported"} {
		if oidc[k] == nil {
			t.Errorf("openid-configuration lacks %s", k)
		}
	}
	seedCare(t, g)
	f := newFlow(t, g, patientScope, "dr.martin", password)
	tok := f.launch(patientScope, "pa")
	req, _ := http.NewRequest("GET", root+"/auth/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	st, info := f.oauth(req)
	if st != 200 || info["sub"] != "Practitioner/dr1" || !strings.HasSuffix(info["fhirUser"].(string), "/Practitioner/dr1") {
		t.Errorf("userinfo: %d %v", st, info)
	}
}

// gatewayKey returns the gateway's active signing key and its kid (read from the
// data directory, as an attacker who stole it would; used to forge tokens that only
// the rules under test can refuse).
func gatewayKey(t *testing.T, g *Gateway) (crypto.Signer, string) {
	t.Helper()
	op := tokenFor(t, g, "system/*.rs", "")
	tok, _, err := jwt.NewParser().ParseUnverified(op, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid := tok.Header["kid"].(string)
	b, err := os.ReadFile(filepath.Join(g.DataDir, "smart", "keys", kid+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer), kid
}

// signed signs claims with key, adding header members.
func signed(t *testing.T, key crypto.Signer, kid string, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// appClaims are the claims of an app's access token of this gateway, living ttl.
func appClaims(g *Gateway, ttl time.Duration) jwt.MapClaims {
	u, _ := url.Parse(g.BaseURL)
	now := time.Now()
	return jwt.MapClaims{"iss": u.Scheme + "://" + u.Host, "aud": g.BaseURL, "sub": "someapp", "client_id": "someapp",
		"scope": "system/*.rs", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(), "jti": base64.RawURLEncoding.EncodeToString([]byte(now.String()))}
}

// TestTokenRules: an unknown crit header is refused; a lifetime above the maximum is
// refused (tokens signed with the gateway's own key, so that only these rules can
// refuse them); a freshly rotated key signs tokens that are accepted at once.
func TestTokenRules(t *testing.T) {
	g := startGateway(t)
	key, kid := gatewayKey(t, g)
	if st := read(t, g, signed(t, key, kid, appClaims(g, 10*time.Minute), nil), "Patient"); st != 200 {
		t.Fatalf("control token refused: %d", st)
	}
	t.Run("unknown crit header refused", func(t *testing.T) {
		tok := signed(t, key, kid, appClaims(g, 10*time.Minute), map[string]any{"crit": []string{"urn:example:must-understand"}, "urn:example:must-understand": true})
		if st := read(t, g, tok, "Patient"); st != 401 {
			t.Errorf("token with an unknown crit header: %d, want 401", st)
		}
	})
	t.Run("lifetime above the maximum refused", func(t *testing.T) {
		if st := read(t, g, signed(t, key, kid, appClaims(g, 3*time.Hour), nil), "Patient"); st != 401 {
			t.Errorf("3 h token: %d, want 401", st)
		}
		c := appClaims(g, 0)
		delete(c, "exp")
		if st := read(t, g, signed(t, key, kid, c, nil), "Patient"); st != 401 {
			t.Errorf("token without exp: %d, want 401", st)
		}
	})
	t.Run("rotated key usable at once", func(t *testing.T) {
		aitgw(t, g, "keys", "rotate")
		tok := tokenFor(t, g, "system/*.rs", "")
		if st := read(t, g, tok, "Patient"); st != 200 {
			t.Errorf("token signed by the just-rotated key: %d, want 200", st)
		}
	})
}

// TestIntrospection: any token that is not a live one of this server is inactive
// (forged, tampered, expired, garbage); a live one is described; only an
// authenticated client may ask.
func TestIntrospection(t *testing.T) {
	g := startGateway(t)
	seedCare(t, g)
	f := newFlow(t, g, patientScope+" aitgw/introspect", "dr.martin", password)
	key, kid := gatewayKey(t, g)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	live := tokenFor(t, g, "system/*.rs", "")
	expired := appClaims(g, time.Minute)
	expired["iat"], expired["nbf"], expired["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-time.Hour).Unix(), time.Now().Add(-50*time.Minute).Unix()
	none := jwt.NewWithClaims(jwt.SigningMethodNone, appClaims(g, time.Minute))
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	tampered := live[:len(live)-4] + "AAAA"
	forged := map[string]string{
		"forged signature (foreign key, our kid)": signed(t, other, kid, appClaims(g, time.Minute), nil),
		"alg none":      noneTok,
		"tampered":      tampered,
		"expired":       signed(t, key, kid, expired, nil),
		"not a JWT":     "garbage",
		"unknown token": strings.Repeat("x", 43),
	}
	for name, tok := range forged {
		st, m := f.endpoint("/auth/introspect", url.Values{"token": {tok}})
		if st != 200 || m["active"] != false || len(m) != 1 {
			t.Errorf("introspection of %s: %d %v, want 200 {active:false}", name, st, m)
		}
	}
	st, m := f.endpoint("/auth/introspect", url.Values{"token": {live}})
	if st != 200 || m["active"] != true || m["scope"] != "system/*.rs" || m["client_id"] == nil || m["exp"] == nil ||
		m["iat"] == nil || m["iss"] == nil || m["aud"] != g.BaseURL || m["sub"] == nil {
		t.Errorf("introspection of a live token: %d %v", st, m)
	}
	req, _ := http.NewRequest("POST", f.origin()+"/auth/introspect", strings.NewReader(url.Values{"token": {live}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if st, _ := f.oauth(req); st != 401 {
		t.Errorf("introspection without client authentication: %d, want 401", st)
	}
}

// TestRefreshTokenReuse: each refresh returns a new refresh token; presenting an old
// one again revokes the family: the newer refresh token and the access tokens
// minted from the family stop working. A revoked access token is refused.
func TestRefreshTokenReuse(t *testing.T) {
	g := startGateway(t)
	seedCare(t, g)
	f := newFlow(t, g, patientScope, "dr.martin", password)
	tok := f.launch(patientScope, "pa")
	rt1, at1 := tok["refresh_token"].(string), tok["access_token"].(string)
	st, tok2 := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
	if st != 200 || tok2["refresh_token"] == nil || tok2["refresh_token"] == rt1 {
		t.Fatalf("refresh: %d %v (want a new refresh token)", st, tok2)
	}
	rt2, at2 := tok2["refresh_token"].(string), tok2["access_token"].(string)
	if read(t, g, at2, "Patient/pa") != 200 {
		t.Fatal("the refreshed access token does not read its patient")
	}
	if st, m := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}}); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("reuse of the old refresh token: %d %v, want 400 invalid_grant", st, m)
	}
	if st, m := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}}); st != 400 {
		t.Errorf("the newer refresh token still works after the reuse: %d %v", st, m)
	}
	for name, at := range map[string]string{"first": at1, "refreshed": at2} {
		if st := read(t, g, at, "Patient/pa"); st != 401 {
			t.Errorf("the %s access token of the revoked family reads: %d, want 401", name, st)
		}
	}
	t.Run("revoked access token refused", func(t *testing.T) {
		at := f.launch(patientScope, "pa")["access_token"].(string)
		if st, _ := f.endpoint("/auth/revoke", url.Values{"token": {at}}); st != 200 {
			t.Fatalf("revoke: %d", st)
		}
		if st := read(t, g, at, "Patient/pa"); st != 401 {
			t.Errorf("revoked access token reads: %d", st)
		}
	})
}

// TestPickerConfinedToCare: the picker lists only the patients whose pathway names
// the practitioner (search by name, birth date, INS), refuses to pick another, and no
// launch (standalone or EHR) yields a token for a patient outside the user's care;
// the coordinator sees all.
func TestPickerConfinedToCare(t *testing.T) {
	g := startGateway(t)
	seedCare(t, g)
	f := newFlow(t, g, patientScope, "dr.martin", password)
	p := f.start(patientScope, "")
	if got := listed(p); !slices.Equal(got, []string{"pa"}) {
		t.Fatalf("picker of dr1 lists %v, want [pa]", got)
	}
	for q, want := range map[string][]string{"alpha": {"pa"}, "rose": {"pa"}, "03/02/1950": {"pa"}, "1950-02-03": {"pa"},
		"250029912345678": {"pa"}, "Beta": nil, "1961-07-08": nil} {
		if got := listed(f.post(f.form(p, "action", "search", "q", q), nil)); !slices.Equal(got, want) {
			t.Errorf("search %q lists %v, want %v", q, got, want)
		}
	}
	t.Run("picker access to a patient outside the user's care", func(t *testing.T) {
		if r := f.post(f.form(p, "action", "pick", "patient", "pb"), nil); r.status != 403 {
			t.Errorf("picking pb: %d, want 403", r.status)
		}
		var launch struct{ Launch string }
		_ = json.Unmarshal(aitgw(t, g, "launch", "--patient", "pb", "--fhir-user", "Practitioner/dr1"), &launch)
		r := f.start("launch openid fhirUser patient/Patient.rs", launch.Launch)
		if q := redirected(r); q == nil || q.Get("error") != "access_denied" {
			t.Errorf("EHR launch with pb: %d %s, want a redirect with access_denied", r.status, r.header.Get("Location"))
		}
	})
	t.Run("coordinator sees all", func(t *testing.T) {
		c := newFlow(t, g, patientScope, "dr.durand", password)
		if got := listed(c.start(patientScope, "")); !slices.Equal(got, []string{"pa", "pb"}) {
			t.Errorf("coordinator's picker lists %v, want [pa pb]", got)
		}
	})
}

// TestPatientUserCannotObtainTokenForAnotherPatient: a user whose fhirUser is
// Patient/pa sees only pa in the picker, and neither the picker nor an EHR launch
// gets a token for pb.
func TestPatientUserCannotObtainTokenForAnotherPatient(t *testing.T) {
	g := startGateway(t)
	seedCare(t, g)
	f := newFlow(t, g, patientScope, "rose", password)
	p := f.start(patientScope, "")
	if got := listed(p); !slices.Equal(got, []string{"pa"}) {
		t.Errorf("picker of Patient/pa lists %v", got)
	}
	if r := f.post(f.form(p, "action", "pick", "patient", "pb"), nil); r.status != 403 {
		t.Errorf("Patient/pa picking pb: %d, want 403", r.status)
	}
	var launch struct{ Launch string }
	_ = json.Unmarshal(aitgw(t, g, "launch", "--patient", "pb"), &launch)
	if q := redirected(f.start("launch openid fhirUser patient/Patient.rs", launch.Launch)); q == nil || q.Get("error") != "access_denied" {
		t.Errorf("EHR launch of pb for Patient/pa: %v, want access_denied", q)
	}
	if tok := f.launch(patientScope, "pa"); tok["patient"] != "pa" {
		t.Errorf("own launch: patient %v", tok["patient"])
	}
}

// TestConsentFormOriginChecked: the picker and consent forms are refused when posted
// from another origin (Origin, Referer, or the opaque "null"), or with a request id
// not of this flow or not of this user; the consent page says in French who asks, for
// whom, and what each scope allows.
func TestConsentFormOriginChecked(t *testing.T) {
	g := startGateway(t)
	seedCare(t, g)
	f := newFlow(t, g, patientScope, "dr.martin", password)
	p := f.start(patientScope, "")
	p = f.post(f.form(p, "action", "pick", "patient", "pa"), nil)
	for _, want := range []string{"Vue parcours", "Rosé Alpha", "03/02/1950", "Lire, rechercher les ressources Patient du patient choisi uniquement", "Autoriser"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consent page lacks %q: %.600s", want, p.body)
		}
	}
	for name, h := range map[string]map[string]string{
		"foreign origin":  {"Origin": "https://evil.example"},
		"opaque origin":   {"Origin": "null"},
		"foreign referer": {"Origin": "", "Referer": "https://evil.example/page"},
	} {
		if r := f.post(f.form(p, "action", "approve"), h); r.status != 403 || redirected(r) != nil {
			t.Errorf("consent posted with %s: %d, want 403", name, r.status)
		}
	}
	if r := f.post(url.Values{"req": {"forged-request-id"}, "action": {"approve"}}, nil); r.status != 400 || redirected(r) != nil {
		t.Errorf("consent with a forged request id: %d, want 400", r.status)
	}
	// another user's browser cannot approve dr.martin's request
	rose := *f
	rose.user = "rose"
	if r := rose.post(f.form(p, "action", "approve"), nil); r.status != 403 || redirected(r) != nil {
		t.Errorf("another user approving the request: %d, want 403", r.status)
	}
	if q := redirected(f.post(f.form(p, "action", "approve"), map[string]string{"Origin": "", "Referer": f.origin() + "/auth/authorize"})); q == nil || q.Get("code") == "" {
		t.Errorf("consent from the server's own page (Referer) refused")
	}
}
