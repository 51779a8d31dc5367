package smart

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// authRequest is an authorization request between the first hit and the consent.
type authRequest struct {
	ID          string    `json:"id"`
	ClientID    string    `json:"client_id"`
	ClientName  string    `json:"client_name"`
	RedirectURI string    `json:"redirect_uri"`
	State       string    `json:"state"`
	Scope       string    `json:"scope"`
	Challenge   string    `json:"code_challenge"`
	Nonce       string    `json:"nonce,omitempty"`
	Patient     string    `json:"patient,omitempty"`
	Encounter   string    `json:"encounter,omitempty"`
	FHIRUser    string    `json:"fhirUser,omitempty"`
	Expires     time.Time `json:"expires"`
}

// codeRecord is an issued authorization code (one use, 60 s).
type codeRecord struct {
	authRequest
	Code string `json:"code"`
}

// Lifetimes of the steps of the code flow.
const (
	authRequestTTL = 10 * time.Minute
	codeTTL        = 60 * time.Second
	// LaunchTTL is how long an EHR launch id minted by MintLaunch stays usable.
	LaunchTTL = 5 * time.Minute
)

func (s *AuthServer) authorize(c *gin.Context) { s.startAuthorize(c, c.Request.URL.Query()) }

// startAuthorize checks an authorization request and shows the picker or the consent.
func (s *AuthServer) startAuthorize(c *gin.Context, q url.Values) {
	ctx := c.Request.Context()
	cl, err := GetClient(ctx, s.kv, q.Get("client_id"))
	if err != nil || cl == nil {
		page(c, http.StatusBadRequest, "Unknown client", "The application is not registered with this server.")
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(cl.RedirectURIs) == 1 {
		redirect = cl.RedirectURIs[0]
	}
	if !cl.redirectAllowed(redirect) {
		// Never redirect to an unregistered URI (open redirector, code theft).
		page(c, http.StatusBadRequest, "Invalid redirect", "The redirect URI is not registered for this application.")
		return
	}
	fail := func(code, desc string) { redirectError(c, redirect, q.Get("state"), code, desc) }
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	if strings.TrimSuffix(q.Get("aud"), "/") != s.cfg.BaseURL {
		fail("invalid_request", "aud must be the FHIR base URL "+s.cfg.BaseURL)
		return
	}
	ch := q.Get("code_challenge")
	if q.Get("code_challenge_method") != "S256" || len(ch) < 43 || len(ch) > 128 {
		fail("invalid_request", "PKCE with code_challenge_method S256 is required")
		return
	}
	scope, err := cl.grantable(q.Get("scope"))
	if err != nil || scope == "" {
		fail("invalid_scope", "no requested scope is allowed for this application")
		return
	}
	ar := authRequest{ID: randomToken(24), ClientID: cl.ID, ClientName: cl.Name, RedirectURI: redirect,
		State: q.Get("state"), Scope: scope, Challenge: ch, Nonce: q.Get("nonce"),
		Expires: s.now().Add(authRequestTTL)}
	if l := q.Get("launch"); l != "" {
		lc, err := s.consumeLaunch(c, l)
		if err != nil || lc == nil {
			fail("invalid_request", "unknown or expired launch")
			return
		}
		ar.Patient, ar.Encounter, ar.FHIRUser = lc.Patient, lc.Encounter, lc.FHIRUser
	}
	if s.Users != nil {
		u, err := s.Users.Authenticate(c.Request)
		if err != nil {
			if ch, ok := s.Users.(challenger); ok {
				c.Header("WWW-Authenticate", ch.Challenge())
			}
			page(c, http.StatusUnauthorized, "Login required", "Sign in to the hospital portal, then retry.")
			return
		}
		ar.FHIRUser = u
	}
	if err := s.saveAuthRequest(c, &ar); err != nil {
		page(c, http.StatusInternalServerError, "Error", "The request could not be saved.")
		return
	}
	s.nextStep(c, &ar)
}

// needsPatient reports a request that asks for a patient context it does not have.
func (ar *authRequest) needsPatient() bool {
	if ar.Patient != "" {
		return false
	}
	rs, other, _ := ParseScopes(ar.Scope)
	if slices.Contains(other, ScopeLaunchPatient) {
		return true
	}
	return slices.ContainsFunc(rs, func(s Scope) bool { return s.Context == ContextPatient })
}

// nextStep renders the picker when a patient is needed, else the consent page.
func (s *AuthServer) nextStep(c *gin.Context, ar *authRequest) {
	if ar.needsPatient() {
		if s.patients == nil {
			redirectError(c, ar.RedirectURI, ar.State, "invalid_request", "no patient directory to pick from")
			return
		}
		list, err := s.patients.List(c.Request.Context())
		if err != nil {
			page(c, http.StatusInternalServerError, "Error", "The patient list is unavailable.")
			return
		}
		render(c, pickerPage, map[string]any{"Req": ar, "Patients": list})
		return
	}
	render(c, consentPage, map[string]any{"Req": ar, "Scopes": strings.Fields(ar.Scope)})
}

// authorizeSubmit handles the picker and consent forms (and authorize-post requests).
func (s *AuthServer) authorizeSubmit(c *gin.Context) {
	if c.PostForm("response_type") != "" {
		_ = c.Request.ParseForm()
		s.startAuthorize(c, c.Request.PostForm)
		return
	}
	ctx := c.Request.Context()
	// The request id is an unguessable one-time value bound to this flow: it is the
	// CSRF token of the forms.
	b, err := s.kv.Get(ctx, nsAuthReq, c.PostForm("req"))
	var ar authRequest
	if err != nil || b == nil || json.Unmarshal(b, &ar) != nil || s.now().After(ar.Expires) {
		page(c, http.StatusBadRequest, "Expired", "This authorization request is unknown or expired. Start again from the application.")
		return
	}
	if s.Users != nil {
		if u, err := s.Users.Authenticate(c.Request); err != nil || u != ar.FHIRUser {
			if ch, ok := s.Users.(challenger); ok {
				c.Header("WWW-Authenticate", ch.Challenge())
			}
			page(c, http.StatusUnauthorized, "Login required", "Sign in again, then retry.")
			return
		}
	}
	switch c.PostForm("action") {
	case "pick":
		if !s.inDirectory(c, c.PostForm("patient")) {
			page(c, http.StatusBadRequest, "Unknown patient", "Choose a patient from the list.")
			return
		}
		ar.Patient = c.PostForm("patient")
		if err := s.saveAuthRequest(c, &ar); err != nil {
			page(c, http.StatusInternalServerError, "Error", "The request could not be saved.")
			return
		}
		s.nextStep(c, &ar)
	case "approve":
		if ar.needsPatient() {
			s.nextStep(c, &ar)
			return
		}
		_ = s.kv.Put(ctx, nsAuthReq, ar.ID, nil)
		cr := codeRecord{authRequest: ar, Code: randomToken(32)}
		cr.Expires = s.now().Add(codeTTL)
		rec, _ := json.Marshal(cr)
		if err := s.kv.Put(ctx, nsCodes, cr.Code, rec); err != nil {
			redirectError(c, ar.RedirectURI, ar.State, "server_error", "code could not be stored")
			return
		}
		q := url.Values{"code": {cr.Code}}
		if ar.State != "" {
			q.Set("state", ar.State)
		}
		redirectTo(c, ar.RedirectURI, q)
	default:
		_ = s.kv.Put(ctx, nsAuthReq, ar.ID, nil)
		redirectError(c, ar.RedirectURI, ar.State, "access_denied", "the user denied access")
	}
}

func (s *AuthServer) inDirectory(c *gin.Context, id string) bool {
	if id == "" || s.patients == nil {
		return false
	}
	list, err := s.patients.List(c.Request.Context())
	return err == nil && slices.ContainsFunc(list, func(p PatientSummary) bool { return p.ID == id })
}

func (s *AuthServer) saveAuthRequest(c *gin.Context, ar *authRequest) error {
	b, _ := json.Marshal(ar)
	return s.kv.Put(c.Request.Context(), nsAuthReq, ar.ID, b)
}

// redirectTo sends the browser back to the client with q added to its redirect URI.
func redirectTo(c *gin.Context, redirect string, q url.Values) {
	u, _ := url.Parse(redirect) // registered, hence parsable
	v := u.Query()
	for k, vs := range q {
		v[k] = vs
	}
	u.RawQuery = v.Encode()
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, u.String())
	c.Abort()
}

func redirectError(c *gin.Context, redirect, state, code, desc string) {
	q := url.Values{"error": {code}, "error_description": {desc}}
	if state != "" {
		q.Set("state", state)
	}
	redirectTo(c, redirect, q)
}

// securePage sets the headers of every HTML page: no framing (clickjacking of the
// consent), no scripts, no caching.
func securePage(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
}

func render(c *gin.Context, t *template.Template, data any) {
	securePage(c)
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = t.Execute(c.Writer, data)
}

func page(c *gin.Context, status int, title, msg string) {
	securePage(c)
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = messagePage.Execute(c.Writer, map[string]string{"Title": title, "Message": msg})
	c.Abort()
}

const pageHead = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>AIT Gateway</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}button{margin:.3em}</style></head><body>`

var (
	messagePage = template.Must(template.New("msg").Parse(pageHead +
		`<h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>`))
	pickerPage = template.Must(template.New("picker").Parse(pageHead +
		`<h1>Choisir le patient / Choose the patient</h1>
<p>{{.Req.ClientName}} ({{.Req.ClientID}}) asks for a patient.</p>
<form method="post" action="/auth/authorize"><input type="hidden" name="req" value="{{.Req.ID}}"><input type="hidden" name="action" value="pick">
{{range .Patients}}<p><label><input type="radio" name="patient" value="{{.ID}}"> {{.Name}} {{.BirthDate}}</label></p>{{end}}
<button type="submit">Continuer</button></form></body></html>`))
	consentPage = template.Must(template.New("consent").Parse(pageHead +
		`<h1>Autoriser l'accès / Authorize access</h1>
<p><b>{{.Req.ClientName}}</b> ({{.Req.ClientID}}) asks for:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
{{if .Req.Patient}}<p>Patient: <code>{{.Req.Patient}}</code></p>{{end}}
<form method="post" action="/auth/authorize"><input type="hidden" name="req" value="{{.Req.ID}}">
<button type="submit" name="action" value="approve">Autoriser</button>
<button type="submit" name="action" value="deny">Refuser</button></form></body></html>`))
)
