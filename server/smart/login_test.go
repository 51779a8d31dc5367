package smart

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoginThrottle: the fifth failure locks the account for 30 s, doubling; the
// right password is refused while locked; the lock passes with its window.
func TestLoginThrottle(t *testing.T) {
	th := newLoginThrottle()
	now := time.Unix(1e9, 0)
	th.now = func() time.Time { return now }
	for i := range 5 {
		if w := th.wait("a"); w != 0 {
			t.Fatalf("locked after %d failures", i)
		}
		th.fail("a", accountPolicy)
	}
	if w := th.wait("a", "b"); w != 30*time.Second {
		t.Errorf("after 5 failures: wait %s, want 30s", w)
	}
	now = now.Add(31 * time.Second)
	if th.wait("a") != 0 {
		t.Errorf("still locked after the window")
	}
	th.fail("a", accountPolicy)
	if w := th.wait("a"); w != time.Minute {
		t.Errorf("sixth failure: wait %s, want 1m", w)
	}
	th.succeed("a")
	if th.wait("a") != 0 {
		t.Errorf("success did not clear the account")
	}
}

// TestLoginAuditedAndThrottledThroughAuthorize: through the authorization endpoint,
// wrong passwords answer 401 then 429 with Retry-After, and each attempt is audited.
func TestLoginAuditedAndThrottledThroughAuthorize(t *testing.T) {
	e := newEnv(t)
	kv := e.kv
	if err := AddUser(t.Context(), kv, "dr", "correct horse battery", "Practitioner/dr1"); err != nil {
		t.Fatal(err)
	}
	e.auth.Users = LocalUsers{KV: kv}
	rec := &loginRecorder{}
	e.auth.Audit = rec
	a := newApp(t, e, "launch/patient patient/Patient.rs")
	try := func(pass string) *http.Response {
		q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {a.redirect}, "scope": {"launch/patient patient/Patient.rs"},
			"aud": {e.cfg.BaseURL}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		req, _ := http.NewRequest("GET", e.srv.URL+"/auth/authorize?"+q.Encode(), nil)
		req.SetBasicAuth("dr", pass)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	var got []int
	for range 6 {
		got = append(got, try("wrong password!").StatusCode)
	}
	if !slices.Equal(got, []int{401, 401, 401, 401, 401, 429}) {
		t.Errorf("statuses %v", got)
	}
	if r := try("correct horse battery"); r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("right password while locked: %d", r.StatusCode)
	}
	if len(rec.got) != 7 || rec.got[0].Success || rec.got[0].User != "dr" || rec.got[6].Status != 429 {
		t.Errorf("audited %+v", rec.got)
	}
	// the audit log renders a valid, searchable event for each
	var ra renderedAudit
	ra.render(nil, nil, nil, AuditRequest{Login: &rec.got[0], Outcome: 401, SourceAddress: "10.0.0.1"}, "id-1", time.Now(), false)
	if !strings.Contains(string(ra.body), `"code":"110114"`) || !strings.Contains(string(ra.body), `"outcome":"4"`) {
		t.Errorf("login event %s", ra.body)
	}
}

type loginRecorder struct{ got []LoginAttempt }

func (r *loginRecorder) Login(a LoginAttempt) { r.got = append(r.got, a) }

// TestEHRLaunchSurvivesLoginChallenge: a browser first comes without credentials,
// gets the challenge, and comes back with them and the same launch: the launch was
// not spent on the first try.
func TestEHRLaunchSurvivesLoginChallenge(t *testing.T) {
	e := newEnv(t)
	e.auth.Users = headerUser{}
	a := newApp(t, e, "launch patient/Patient.rs")
	launch, _ := e.auth.MintLaunch(t.Context(), LaunchContext{Patient: "p1"})
	q := url.Values{"response_type": {"code"}, "client_id": {a.id}, "redirect_uri": {a.redirect}, "scope": {"launch patient/Patient.rs"},
		"aud": {e.cfg.BaseURL}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "launch": {launch}}
	for i, user := range []string{"", "Practitioner/coord"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/auth/authorize?"+q.Encode(), nil)
		if user != "" {
			req.Header.Set("X-Test-User", user)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := []int{401, 200}[i]; resp.StatusCode != want {
			t.Errorf("try %d: %d, want %d (%s)", i, resp.StatusCode, want, resp.Header.Get("Location"))
		}
	}
}
