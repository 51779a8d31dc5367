package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// authFlow plays a browser and a confidential SMART app against the gateway's
// authorization server: authorize (HTTP Basic login), picker, consent, code, token.
type authFlow struct {
	t                *testing.T
	g                *Gateway
	clientID, secret string
	user, pass       string
	verifier         string
	http             *http.Client
}

const flowRedirect = "http://app.local/cb"

// newFlow registers a client_secret_basic client with scope and logs in as user.
func newFlow(t *testing.T, g *Gateway, scope, user, pass string) *authFlow {
	t.Helper()
	var reg struct {
		ClientID string `json:"client_id"`
		Secret   string `json:"client_secret"`
	}
	out := aitgw(t, g, "clients", "add", "--name", "Vue parcours", "--auth", "client_secret_basic",
		"--redirect-uri", flowRedirect, "--scope", scope)
	if err := json.Unmarshal(out, &reg); err != nil || reg.ClientID == "" || reg.Secret == "" {
		t.Fatalf("clients add: %s", out)
	}
	return &authFlow{t: t, g: g, clientID: reg.ClientID, secret: reg.Secret, user: user, pass: pass,
		verifier: strings.Repeat("v", 50),
		http:     &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// addUser creates a login of the built-in authorization server.
func addUser(t *testing.T, g *Gateway, name, fhirUser, password string) {
	t.Helper()
	cmd := exec.Command(binary, "users", "add", "--user", name, "--fhir-user", fhirUser, "--data", g.DataDir, "--base-url", g.BaseURL)
	cmd.Env = append(os.Environ(), "AITGW_USER_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aitgw users add: %v %s", err, out)
	}
}

// origin is the gateway's own origin.
func (f *authFlow) origin() string {
	u, _ := url.Parse(f.g.BaseURL)
	return u.Scheme + "://" + u.Host
}

// page is one answer of the authorization endpoint, read in full.
type page struct {
	status int
	header http.Header
	body   string
}

func (f *authFlow) do(req *http.Request) page {
	f.t.Helper()
	if f.user != "" {
		req.SetBasicAuth(f.user, f.pass)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

// start opens the authorization endpoint (launch: an EHR launch value, or "").
func (f *authFlow) start(scope, launch string) page {
	f.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {f.clientID}, "redirect_uri": {flowRedirect},
		"scope": {scope}, "state": {"s1"}, "aud": {f.g.BaseURL}, "code_challenge_method": {"S256"},
		"code_challenge": {sha256Challenge(f.verifier)}}
	if launch != "" {
		q.Set("launch", launch)
	}
	req, _ := http.NewRequest("GET", f.origin()+"/auth/authorize?"+q.Encode(), nil)
	return f.do(req)
}

// sha256Challenge is the PKCE S256 challenge of verifier.
func sha256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var (
	reqField  = regexp.MustCompile(`name="req" value="([^"]+)"`)
	patientRe = regexp.MustCompile(`name="patient" value="([^"]+)"`)
)

// form is the hidden fields of a picker or consent page plus fields.
func (f *authFlow) form(p page, fields ...string) url.Values {
	f.t.Helper()
	r := reqField.FindStringSubmatch(p.body)
	if r == nil {
		f.t.Fatalf("no authorization form (status %d): %.300s", p.status, p.body)
	}
	v := url.Values{"req": {r[1]}}
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	return v
}

// post submits a form from the gateway's own page (Origin set), header overriding.
func (f *authFlow) post(v url.Values, header map[string]string) page {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.origin()+"/auth/authorize", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.origin())
	for k, val := range header {
		if val == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, val)
		}
	}
	return f.do(req)
}

// listed returns the patient ids a picker page offers.
func listed(p page) []string {
	var out []string
	for _, m := range patientRe.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// redirected returns the query of the redirect back to the app (nil when the page
// is not one).
func redirected(p page) url.Values {
	loc := p.header.Get("Location")
	if p.status != http.StatusFound || !strings.HasPrefix(loc, flowRedirect) {
		return nil
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// token calls the token endpoint as the confidential client.
func (f *authFlow) token(v url.Values) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.origin()+"/auth/token", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.clientID, f.secret)
	return f.oauth(req)
}

// endpoint posts v to an /auth endpoint as the confidential client.
func (f *authFlow) endpoint(path string, v url.Values) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.origin()+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.clientID, f.secret)
	return f.oauth(req)
}

func (f *authFlow) oauth(req *http.Request) (int, map[string]any) {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// launch runs a whole standalone launch, picking patient, and returns the token
// response.
func (f *authFlow) launch(scope, patient string) map[string]any {
	f.t.Helper()
	p := f.start(scope, "")
	if p.status != http.StatusOK {
		f.t.Fatalf("authorize: %d %.300s", p.status, p.body)
	}
	if strings.Contains(p.body, `value="pick"`) {
		p = f.post(f.form(p, "action", "pick", "patient", patient), nil)
	}
	p = f.post(f.form(p, "action", "approve"), nil)
	q := redirected(p)
	if q == nil || q.Get("code") == "" {
		f.t.Fatalf("consent did not redirect with a code: %d %s %.300s", p.status, p.header.Get("Location"), p.body)
	}
	st, tok := f.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {flowRedirect}, "code_verifier": {f.verifier}})
	if st != http.StatusOK {
		f.t.Fatalf("code redemption: %d %v", st, tok)
	}
	return tok
}

// read GETs a FHIR path with a bearer token and returns the status.
func read(t *testing.T, g *Gateway, token, path string) int {
	t.Helper()
	c := NewClient(g.BaseURL)
	c.Token = token
	r, err := c.Do("GET", path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}
