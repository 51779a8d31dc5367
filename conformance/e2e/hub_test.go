package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/aitgw/aitgw/profiles"
)

// backend is a SMART Backend Services client registered with the gateway
// (private_key_jwt), as the regional hub is.
type backend struct {
	id  string
	key *ecdsa.PrivateKey
	g   *Gateway
}

// registerBackend registers a private_key_jwt client with "aitgw clients add".
func registerBackend(t *testing.T, g *Gateway, scope string) *backend {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := make([]byte, 48), make([]byte, 48)
	k.X.FillBytes(x)
	k.Y.FillBytes(y)
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-384", "x": b64(x), "y": b64(y), "kid": "hub-1", "alg": "ES384"}}})
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "clients", "add", "--data", g.DataDir, "--base-url", g.BaseURL,
		"--name", "regional hub", "--auth", "private_key_jwt", "--jwks", file, "--scope", scope).Output()
	if err != nil {
		t.Fatalf("aitgw clients add: %v %s", err, out)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if json.Unmarshal(out, &reg) != nil || reg.ClientID == "" {
		t.Fatalf("registration answer: %s", out)
	}
	return &backend{id: reg.ClientID, key: k, g: g}
}

// token gets an access token with a signed client assertion (client_credentials).
func (b *backend) token(t *testing.T, scope string) string {
	t.Helper()
	u, _ := url.Parse(b.g.BaseURL)
	tokenURL := u.Scheme + "://" + u.Host + "/auth/token"
	jti := make([]byte, 12)
	rand.Read(jti)
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.RegisteredClaims{Issuer: b.id, Subject: b.id,
		Audience: jwt.ClaimStrings{tokenURL}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(4 * time.Minute)),
		ID: base64.RawURLEncoding.EncodeToString(jti)})
	tok.Header["kid"] = "hub-1"
	assertion, err := tok.SignedString(b.key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 || body.AccessToken == "" {
		t.Fatalf("token endpoint: %d", resp.StatusCode)
	}
	return body.AccessToken
}

func mustDo(t *testing.T, c *Client, method, path string, body []byte, header map[string]string, want int) *Response {
	t.Helper()
	r, err := c.Do(method, path, body, header)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

func createdID(t *testing.T, c *Client, body string) string {
	t.Helper()
	var probe struct{ ResourceType string }
	json.Unmarshal([]byte(body), &probe)
	r := mustDo(t, c, "POST", probe.ResourceType, []byte(body), nil, 201)
	return IDFromLocation(r.Header.Get("Location"))
}

// seedHubPatient writes a patient with n Observations, a Practitioner they cite and
// a MedicationRequest with its Medication; it returns the patient id and every
// Type/id of its $everything.
func seedHubPatient(t *testing.T, c *Client, n int) (string, map[string]bool) {
	t.Helper()
	doc := createdID(t, c, `{"resourceType":"Practitioner","name":[{"family":"Algo"}]}`)
	med := createdID(t, c, `{"resourceType":"Medication","code":{"text":"morphine 50 mg/mL"}}`)
	p := createdID(t, c, `{"resourceType":"Patient","name":[{"family":"Hub"}]}`)
	want := map[string]bool{"Patient/" + p: true, "Practitioner/" + doc: true, "Medication/" + med: true}
	for i := 0; i < n; i++ {
		id := createdID(t, c, fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"o%d"},"subject":{"reference":"Patient/%s"},"performer":[{"reference":"Practitioner/%s"}]}`, i, p, doc))
		want["Observation/"+id] = true
	}
	mr := createdID(t, c, fmt.Sprintf(`{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/%s"},"medicationReference":{"reference":"Medication/%s"}}`, p, med))
	want["MedicationRequest/"+mr] = true
	return p, want
}

// everythingScript pages Patient/$everything with fhir-kit-client's nextPage and
// prints the Type/id of every entry, one JSON array.
const everythingScript = `
import { pathToFileURL } from 'node:url';
const { Client } = await import(pathToFileURL(process.env.FHIRKIT_MODULE).href);
const client = new Client({ baseUrl: process.argv[2], bearerToken: process.env.AITGW_TOKEN });
let bundle = await client.operation({ name: 'everything', resourceType: 'Patient', id: process.argv[3], method: 'GET', input: { _count: 7 } });
const ids = [];
let pages = 0;
while (bundle) {
  pages++;
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset') throw new Error('not a searchset: ' + JSON.stringify(bundle).slice(0, 300));
  for (const e of bundle.entry || []) ids.push(e.resource.resourceType + '/' + e.resource.id);
  if (pages > 100) throw new Error('paging does not end');
  bundle = await client.nextPage({ bundle });
}
console.log(JSON.stringify({ pages, ids }));
`

// TestHubEverythingWithFhirKit: a real client pages Patient/$everything to the end
// while the patient's record grows; it gets the record as of the first page, each
// resource once.
func TestHubEverythingWithFhirKit(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is required for the real-client test")
	}
	entry := installFhirKit(t)
	g := startGateway(t)
	c := g.Client()
	p, want := seedHubPatient(t, c, 30)
	script := filepath.Join(t.TempDir(), "everything.mjs")
	os.WriteFile(script, []byte(everythingScript), 0o600)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // another client keeps writing into the patient's record
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			c.Do("POST", "Observation", []byte(fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"late %d"},"subject":{"reference":"Patient/%s"}}`, i, p)), nil)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, g.BaseURL, p)
	cmd.Env = append(os.Environ(), "FHIRKIT_MODULE="+entry, TokenEnv+"="+g.Token)
	out, err := cmd.Output()
	close(stop)
	<-done
	if err != nil {
		t.Fatalf("fhir-kit-client $everything: %v %s", err, out)
	}
	var res struct {
		Pages int
		IDs   []string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("script output: %s", out)
	}
	if res.Pages < 5 {
		t.Errorf("%d pages for %d resources at _count=7", res.Pages, len(want))
	}
	seen := map[string]int{}
	for _, id := range res.IDs {
		seen[id]++
	}
	for k := range want {
		if seen[k] != 1 {
			t.Errorf("%s came %d times", k, seen[k])
		}
	}
	late := 0
	for k := range seen {
		if !want[k] {
			late++
		}
	}
	// resources written before the first page was computed are in the snapshot; none
	// written after: at most the ones posted in the 50 ms before the script started
	// plus its start-up
	t.Logf("%d pages, %d entries, %d written during the walk included", res.Pages, len(res.IDs), late)
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s came %d times", k, n)
		}
	}
}

// exportRun kicks off an export and polls it to the manifest.
func exportRun(t *testing.T, c *Client, path string) map[string]any {
	t.Helper()
	r := mustDo(t, c, "GET", path, nil, map[string]string{"Prefer": "respond-async"}, 202)
	status := r.Header.Get("Content-Location")
	if status == "" {
		t.Fatal("kick-off without Content-Location")
	}
	return pollManifest(t, c, status)
}

func pollManifest(t *testing.T, c *Client, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		r, err := c.Do("GET", status, nil, map[string]string{"Accept": "application/json"})
		if err != nil {
			t.Fatal(err)
		}
		switch r.Status {
		case 202:
			if r.Header.Get("X-Progress") == "" || r.Header.Get("Retry-After") == "" {
				t.Errorf("202 without X-Progress and Retry-After: %v", r.Header)
			}
			time.Sleep(200 * time.Millisecond)
			continue
		case 200:
			var m map[string]any
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatalf("manifest: %s", r.Body)
			}
			return m
		default:
			t.Fatalf("poll: %d %s", r.Status, r.Body)
		}
	}
	t.Fatal("export did not complete in 2 minutes")
	return nil
}

// downloadAll fetches every output file, checks each line is one resource of the
// file's type that the R4 validator accepts, and returns the counts by type.
func downloadAll(t *testing.T, c *Client, m map[string]any, v *profiles.Validator) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, o := range m["output"].([]any) {
		o := o.(map[string]any)
		r := mustDo(t, c, "GET", o["url"].(string), nil, map[string]string{"Accept": "application/fhir+ndjson"}, 200)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+ndjson") {
			t.Errorf("file Content-Type %q", ct)
		}
		sc := bufio.NewScanner(bytes.NewReader(r.Body))
		sc.Buffer(nil, 16<<20)
		n := 0
		for sc.Scan() {
			var res struct{ ResourceType string }
			if err := json.Unmarshal(sc.Bytes(), &res); err != nil || res.ResourceType != o["type"] {
				t.Fatalf("%s line %d is not a %s: %.200s", o["type"], n+1, o["type"], sc.Bytes())
			}
			if v != nil {
				if oo := v.Validate(sc.Bytes()); oo.HasErrors() {
					t.Errorf("%s line %d is not valid R4: %s", o["type"], n+1, oo.JSON())
				}
			}
			n++
		}
		if c, ok := o["count"].(float64); ok && int(c) != n {
			t.Errorf("%s: manifest count %v, file has %d lines", o["type"], c, n)
		}
		counts[o["type"].(string)] = n
	}
	return counts
}

// TestHubBulkExport: the hub, a Backend Services client with a signed JWT assertion,
// runs system, Patient and Group exports to the end; every NDJSON line is valid R4;
// bad requests get a 4xx OperationOutcome; another client can neither poll nor
// download; DELETE cancels.
func TestHubBulkExport(t *testing.T) {
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t)
	op := g.Client()
	p, _ := seedHubPatient(t, op, 12)
	q, _ := seedHubPatient(t, op, 3)
	grp := createdID(t, op, fmt.Sprintf(`{"resourceType":"Group","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/%s"}}]}`, p))

	hub := registerBackend(t, g, "system/*.rs")
	c := NewClient(g.BaseURL)
	c.Token = hub.token(t, "system/*.rs")

	m := exportRun(t, c, "$export?_type=Patient,Observation,MedicationRequest,Medication,Practitioner")
	if m["requiresAccessToken"] != true || m["transactionTime"] == nil || !strings.Contains(m["request"].(string), "$export") {
		t.Errorf("manifest: %v", m)
	}
	if _, ok := m["error"].([]any); !ok {
		t.Errorf("manifest without error array: %v", m)
	}
	counts := downloadAll(t, c, m, v)
	if counts["Observation"] != 15 || counts["Patient"] != 2 || counts["MedicationRequest"] != 2 {
		t.Errorf("system export counts %v", counts)
	}

	m = exportRun(t, c, "Group/"+grp+"/$export?_type=Patient,Observation")
	counts = downloadAll(t, c, m, v)
	if counts["Observation"] != 12 || counts["Patient"] != 1 {
		t.Errorf("group export counts %v (the group holds one patient with 12 observations)", counts)
	}
	m = exportRun(t, c, "Patient/$export?_typeFilter="+url.QueryEscape("Observation?subject=Patient/"+p))
	counts = downloadAll(t, c, m, v)
	if counts["Observation"] != 12 || counts["Patient"] != 2 {
		t.Errorf("patient export with _typeFilter: %v", counts)
	}
	_ = q

	// bad input: 4xx with an OperationOutcome, never 5xx
	async := map[string]string{"Prefer": "respond-async"}
	patientTok := tokenFor(t, g, "patient/*.rs", p)
	for _, tc := range []struct {
		path   string
		token  string
		header map[string]string
		want   int
	}{
		{"$export?_type=Foo", c.Token, async, 400},
		{"$export?_since=yesterday", c.Token, async, 400},
		{"$export?_type=Patient&_typeFilter=" + url.QueryEscape("Observation?code=x"), c.Token, async, 400},
		{"$export?_outputFormat=text/csv", c.Token, async, 400},
		{"$export", c.Token, nil, 400},
		{"$export", patientTok, async, 403},
	} {
		cl := NewClient(g.BaseURL)
		cl.Token = tc.token
		r := mustDo(t, cl, "GET", tc.path, nil, tc.header, tc.want)
		if !bytes.Contains(r.Body, []byte(`"OperationOutcome"`)) {
			t.Errorf("%s: no OperationOutcome: %s", tc.path, r.Body)
		}
	}

	// another client (the operator's token) can neither poll nor download
	r := mustDo(t, c, "GET", "$export?_type=Patient", nil, async, 202)
	status := r.Header.Get("Content-Location")
	m = pollManifest(t, c, status)
	file := m["output"].([]any)[0].(map[string]any)["url"].(string)
	other := g.Client()
	mustDo(t, other, "GET", status, nil, nil, 403)
	mustDo(t, other, "GET", file, nil, nil, 403)
	mustDo(t, other, "DELETE", status, nil, nil, 403)
	anon := NewClient(g.BaseURL)
	if r, _ := anon.Do("GET", file, nil, nil); r.Status != 401 {
		t.Errorf("download without a token: %d", r.Status)
	}
	// cancellation: 202, then 404 for the status and the files
	mustDo(t, c, "DELETE", status, nil, nil, 202)
	mustDo(t, c, "GET", status, nil, nil, 404)
	mustDo(t, c, "GET", file, nil, nil, 404)
}

// TestHubExportSurvivesKill: the gateway is killed (SIGKILL) while an export runs;
// after the restart the export is reported, resumes and completes with every
// resource of its snapshot.
func TestHubExportSurvivesKill(t *testing.T) {
	g := startGateway(t)
	op := g.Client()
	const patients, perTx = 40, 250
	for i := 0; i < patients; i++ {
		var entries []string
		entries = append(entries, fmt.Sprintf(`{"fullUrl":"urn:uuid:%s","resource":{"resourceType":"Patient","name":[{"family":"K%d"}]},"request":{"method":"POST","url":"Patient"}}`, uuidFor(fmt.Sprint("kill", i), 0), i))
		for j := 1; j < perTx; j++ {
			entries = append(entries, fmt.Sprintf(`{"resource":{"resourceType":"Observation","status":"final","code":{"text":"k%d"},"subject":{"reference":"urn:uuid:%s"}},"request":{"method":"POST","url":"Observation"}}`, j, uuidFor(fmt.Sprint("kill", i), 0)))
		}
		mustDo(t, op, "POST", "", []byte(`{"resourceType":"Bundle","type":"transaction","entry":[`+strings.Join(entries, ",")+`]}`), nil, 200)
	}
	hub := registerBackend(t, g, "system/*.rs")
	c := NewClient(g.BaseURL)
	c.Token = hub.token(t, "system/*.rs")
	r := mustDo(t, c, "GET", "$export?_type=Patient,Observation", nil, map[string]string{"Prefer": "respond-async"}, 202)
	status := r.Header.Get("Content-Location")
	g.Kill()

	g2, err := Start(context.Background(), binary, g.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g2.Stop)
	// the status URL names the old port: same path on the new gateway
	u, _ := url.Parse(status)
	b2, _ := url.Parse(g2.BaseURL)
	u.Host = b2.Host
	c2 := NewClient(g2.BaseURL)
	c2.Token = (&backend{id: hub.id, key: hub.key, g: g2}).token(t, "system/*.rs")
	first, err := c2.Do("GET", u.String(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != 200 && first.Status != 202 {
		t.Fatalf("after the restart the export is not reported: %d %s", first.Status, first.Body)
	}
	t.Logf("first poll after kill -9: %d %s", first.Status, first.Header.Get("X-Progress"))
	m := pollManifest(t, c2, u.String())
	for _, o := range m["output"].([]any) { // file URLs carry the new host already
		o := o.(map[string]any)
		if !strings.Contains(o["url"].(string), b2.Host) {
			t.Errorf("file URL %v", o["url"])
		}
	}
	counts := downloadAll(t, c2, m, nil)
	if counts["Patient"] != patients || counts["Observation"] != patients*(perTx-1) {
		t.Errorf("after kill -9 and restart: %v, want %d Patient and %d Observation", counts, patients, patients*(perTx-1))
	}
}

// TestHubExportExpires: with --export-expiry 2s, a finished export's status and files
// are gone (404) a few seconds later.
func TestHubExportExpires(t *testing.T) {
	g, err := Start(context.Background(), binary, t.TempDir(), "--export-expiry", "2s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	op := g.Client()
	seedHubPatient(t, op, 2)
	hub := registerBackend(t, g, "system/*.rs")
	c := NewClient(g.BaseURL)
	c.Token = hub.token(t, "system/*.rs")
	r := mustDo(t, c, "GET", "$export?_type=Observation", nil, map[string]string{"Prefer": "respond-async"}, 202)
	status := r.Header.Get("Content-Location")
	m := pollManifest(t, c, status)
	file := m["output"].([]any)[0].(map[string]any)["url"].(string)
	mustDo(t, c, "GET", file, nil, nil, 200)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := c.Do("GET", status, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("export still answered %d 20 s after a 2 s expiry", r.Status)
		}
		time.Sleep(250 * time.Millisecond)
	}
	mustDo(t, c, "GET", file, nil, nil, 404)
}
