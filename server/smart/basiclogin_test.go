package smart

import (
	"net/url"
	"testing"
)

// TestBrowserLoginAtTokenEndpointIsNotClientAuth: a browser resends the user's HTTP
// Basic login (given at /auth/authorize) to /auth/token; for a public client the
// code exchange still succeeds. Basic credentials naming the client itself, or a
// confidential client with a wrong secret, are still client authentication and fail.
func TestBrowserLoginAtTokenEndpointIsNotClientAuth(t *testing.T) {
	e := newEnv(t)
	scope := "launch/patient patient/Patient.rs"
	a := newApp(t, e, scope)
	q := a.authorize(scope, "", "p1")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {a.redirect}, "client_id": {a.id}, "code_verifier": {a.verifier}}
	st, body := postForm(t, e.srv.URL+"/auth/token", form, []string{"dr.martin", "the user's password"})
	if st != 200 || body["access_token"] == nil {
		t.Fatalf("code exchange with the browser's Basic login: %d %v", st, body)
	}
	q = a.authorize(scope, "", "p1")
	form.Set("code", q.Get("code"))
	if st, body := postForm(t, e.srv.URL+"/auth/token", form, []string{a.id, "not a secret"}); st != 401 || body["error"] != "invalid_client" {
		t.Errorf("Basic credentials naming the public client itself: %d %v", st, body)
	}
}
