package kit

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// referral is the kit's AIT referral (FR Core shapes, complete dossier): each run
// gives it a patient and a referral identifier of its own.
//
//go:embed testdata/referral.json
var referral []byte

// Check is one verified expectation of a scenario, with the exchange that proves it.
type Check struct {
	Scenario, Name string
	// Section is the rule's seed section, cited by its document's title.
	Section           string
	Request, Response string
	Passed            bool
	Message           string
	Duration          time.Duration
}

// Runner drives a gateway over HTTP as an EHR does: Base is its FHIR base, Token a
// bearer token (system/*.cruds).
type Runner struct {
	Base, Token string
	Client      *http.Client
	checks      []Check
	last        struct{ req, resp string }
}

// do sends one request and keeps its exchange for the check that follows.
func (r *Runner) do(ctx context.Context, method, path string, body []byte) (int, []byte, http.Header, error) {
	u := strings.TrimRight(r.Base, "/")
	if path != "" {
		u += "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := c.Do(req)
	r.last.req = method + " " + u + "\n" + clip(string(body))
	if err != nil {
		r.last.resp = err.Error()
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	r.last.resp = resp.Status + "\n" + clip(string(b))
	return resp.StatusCode, b, resp.Header, nil
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// check records a verdict on the last exchange.
func (r *Runner) check(scenario, name, section string, start time.Time, ok bool, format string, args ...any) bool {
	c := Check{Scenario: scenario, Name: name, Section: section, Request: r.last.req, Response: r.last.resp,
		Passed: ok, Duration: time.Since(start)}
	if !ok {
		c.Message = fmt.Sprintf(format, args...)
	}
	r.checks = append(r.checks, c)
	return ok
}

// Create implements Poster over the runner's connection.
func (r *Runner) Create(body []byte) (string, error) {
	var head struct{ ResourceType string }
	if err := json.Unmarshal(body, &head); err != nil {
		return "", err
	}
	status, _, h, err := r.do(context.Background(), http.MethodPost, head.ResourceType, body)
	if err != nil {
		return "", err
	}
	if status != http.StatusCreated {
		return "", fmt.Errorf("POST %s: %d", head.ResourceType, status)
	}
	loc := strings.TrimPrefix(h.Get("Location"), strings.TrimRight(r.Base, "/")+"/")
	parts := strings.Split(loc, "/")
	if len(parts) < 2 {
		return "", fmt.Errorf("POST %s: no Location", head.ResourceType)
	}
	return parts[0] + "/" + parts[1], nil
}

// Run plays the scenarios: the referral and its pathway, every AIT step with the
// CarePlan it must leave, an out-of-order step, and a second patient under the same
// referral identifier. It returns every check; err is a failure to run at all.
func (r *Runner) Run(ctx context.Context) ([]Check, error) {
	r.checks = nil
	nonce := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	ins := "2" + fmt.Sprintf("%014d", time.Now().UnixNano()%1e14)
	body := bytes.ReplaceAll(referral, []byte("279035121518989"), []byte(ins))
	body = bytes.ReplaceAll(body, []byte("REF-2026-0001"), []byte("REF-KIT-"+nonce))

	start := time.Now()
	status, _, _, err := r.do(ctx, http.MethodPost, "$ait-referral", body)
	if err != nil {
		return r.checks, err
	}
	if !r.check("referral", "the referral is taken in", "000 §V", start, status == http.StatusOK, "status %d, want 200", status) {
		return r.checks, nil
	}
	start = time.Now()
	status, b, _, _ := r.do(ctx, http.MethodGet, "ServiceRequest?identifier="+url.QueryEscape("https://ehr.example-hospital.org/referrals|REF-KIT-"+nonce), nil)
	var srs struct {
		Entry []struct {
			Resource struct {
				ID        string
				Subject   struct{ Reference string }
				Requester struct{ Reference string }
			}
		}
	}
	_ = json.Unmarshal(b, &srs)
	if !r.check("referral", "one referral stored", "000 §V", start, status == http.StatusOK && len(srs.Entry) == 1, "status %d, %d referrals", status, len(srs.Entry)) {
		return r.checks, nil
	}
	sr := srs.Entry[0].Resource
	d := Dossier{Patient: sr.Subject.Reference, Referral: "ServiceRequest/" + sr.ID, Requester: sr.Requester.Reference}
	start = time.Now()
	_, b, _, _ = r.do(ctx, http.MethodGet, "ServiceRequest/"+sr.ID+"/$ait-dossier-status", nil)
	r.check("referral", "$ait-dossier-status: the dossier is complete", "000 §V.2", start, bytes.Contains(b, []byte(`"valueBoolean":true`)), "not complete")
	start = time.Now()
	_, b, _, _ = r.do(ctx, http.MethodGet, "CarePlan?subject="+url.QueryEscape(d.Patient)+"&category="+url.QueryEscape(ait+"|ait-pathway"), nil)
	var cps struct {
		Entry []struct{ Resource json.RawMessage }
	}
	_ = json.Unmarshal(b, &cps)
	if !r.check("referral", "the AIT pathway CarePlan is opened", "000 §III", start, len(cps.Entry) == 1, "%d pathway CarePlans", len(cps.Entry)) {
		return r.checks, nil
	}
	var cp struct{ ID string }
	_ = json.Unmarshal(cps.Entry[0].Resource, &cp)
	var pat struct {
		GeneralPractitioner []struct{ Reference string }
	}
	_, b, _, _ = r.do(ctx, http.MethodGet, d.Patient, nil)
	_ = json.Unmarshal(b, &pat)
	if len(pat.GeneralPractitioner) > 0 {
		d.GP = pat.GeneralPractitioner[0].Reference
	}

	cast, err := NewCast(r)
	if err != nil {
		return r.checks, fmt.Errorf("kit: the cast: %w", err)
	}
	steps := AITSteps(d, cast)
	start = time.Now()
	status, _, _, _ = r.do(ctx, http.MethodPost, "ServiceRequest", steps[3].Body) // planning before the RCP
	r.check("bad input", "a step out of order is refused", "000 §VIII", start, status == http.StatusUnprocessableEntity, "status %d, want 422", status)
	for _, s := range steps {
		start = time.Now()
		var head struct{ ResourceType string }
		_ = json.Unmarshal(s.Body, &head)
		status, _, _, _ = r.do(ctx, http.MethodPost, head.ResourceType, s.Body)
		if !r.check("AIT pathway", s.Name+" is accepted", "000 §III", start, status == http.StatusCreated, "status %d, want 201", status) {
			break
		}
		start = time.Now()
		_, b, _, _ = r.do(ctx, http.MethodGet, "CarePlan/"+cp.ID, nil)
		got := Statuses(b)
		r.check("AIT pathway", s.Name+": the CarePlan's steps are "+s.Want, "000 §III", start, got == s.Want, "CarePlan %s, want %s", got, s.Want)
	}

	other := bytes.ReplaceAll(referral, []byte("279035121518989"), []byte("1"+ins[1:]))
	other = bytes.ReplaceAll(other, []byte("REF-2026-0001"), []byte("REF-KIT-"+nonce))
	start = time.Now()
	status, _, _, _ = r.do(ctx, http.MethodPost, "$ait-referral", other)
	r.check("identity", "another patient under the same referral identifier is refused", "000 §V", start, status == http.StatusConflict, "status %d, want 409", status)
	return r.checks, nil
}
