package smart

import (
	"encoding/json"
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

// maxPickerQuery bounds a picker search (a name, a date or an INS is far shorter).
const maxPickerQuery = 200

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
		page(c, http.StatusBadRequest, "Application inconnue", "Cette application n'est pas enregistrée auprès de ce serveur.")
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(cl.RedirectURIs) == 1 {
		redirect = cl.RedirectURIs[0]
	}
	if !cl.redirectAllowed(redirect) {
		// Never redirect to an unregistered URI (open redirector, code theft).
		page(c, http.StatusBadRequest, "Adresse de retour refusée", "L'adresse de retour (redirect_uri) n'est pas enregistrée pour cette application.")
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
	// log in first: a browser asked for credentials comes back with the same launch,
	// which must not have been spent on the unauthenticated try
	user := ""
	if s.Users != nil {
		u, ok := s.login(c, true)
		if !ok {
			return
		}
		user = u
	}
	if l := q.Get("launch"); l != "" {
		lc, err := s.consumeLaunch(c, l)
		if err != nil || lc == nil {
			fail("invalid_request", "unknown or expired launch")
			return
		}
		ar.Patient, ar.Encounter, ar.FHIRUser = lc.Patient, lc.Encounter, lc.FHIRUser
	}
	if s.Users != nil {
		ar.FHIRUser = user // the logged-in user, whatever the launch said
	}
	if oe := s.checkPatientAccess(ctx, ar.FHIRUser, ar.Patient); oe != nil {
		fail("access_denied", oe.desc)
		return
	}
	if err := s.saveAuthRequest(c, &ar); err != nil {
		page(c, http.StatusInternalServerError, "Erreur", "La demande n'a pas pu être enregistrée.")
		return
	}
	s.nextStep(c, &ar, "")
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

// nextStep renders the picker when a patient is needed (the patients the user may
// see that match query), else the consent page.
func (s *AuthServer) nextStep(c *gin.Context, ar *authRequest, query string) {
	ctx := c.Request.Context()
	if ar.needsPatient() {
		if s.patients == nil {
			redirectError(c, ar.RedirectURI, ar.State, "invalid_request", "no patient directory to pick from")
			return
		}
		care, err := s.careOf(ctx, ar.FHIRUser)
		var list []PatientSummary
		more := false
		if err == nil {
			list, more, err = s.patients.Find(ctx, care, query, pickerLimit)
		}
		if err != nil {
			page(c, http.StatusInternalServerError, "Erreur", "La liste des patients est indisponible.")
			return
		}
		render(c, pickerPage, map[string]any{"Req": ar, "Patients": list, "Query": query, "More": more})
		return
	}
	var patient *PatientSummary
	if ar.Patient != "" && s.patients != nil {
		patient, _ = s.patients.Summary(ctx, ar.Patient)
		if patient == nil {
			patient = &PatientSummary{ID: ar.Patient}
		}
	}
	render(c, consentPage, map[string]any{"Req": ar, "Patient": patient, "Scopes": describeScopes(ar.Scope)})
}

// authorizeSubmit handles the picker and consent forms (and authorize-post requests).
func (s *AuthServer) authorizeSubmit(c *gin.Context) {
	if c.PostForm("response_type") != "" {
		_ = c.Request.ParseForm()
		s.startAuthorize(c, c.Request.PostForm)
		return
	}
	ctx := c.Request.Context()
	if !s.sameOrigin(c.Request) {
		// a form posted from another site (CSRF, clickjacking through a pop-up)
		page(c, http.StatusForbidden, "Origine refusée", "Ce formulaire ne peut être envoyé que depuis les pages du serveur d'autorisation.")
		return
	}
	// The request id is the forms' anti-forgery token: unguessable, one flow, bound to
	// the user who logged in when it started (checked below), never in a URL.
	b, err := s.kv.Get(ctx, nsAuthReq, c.PostForm("req"))
	var ar authRequest
	if err != nil || b == nil || json.Unmarshal(b, &ar) != nil || s.now().After(ar.Expires) {
		page(c, http.StatusBadRequest, "Demande expirée", "Cette demande d'autorisation est inconnue ou a expiré. Recommencez depuis l'application.")
		return
	}
	if s.Users != nil {
		u, ok := s.login(c, false)
		if !ok {
			return
		}
		if u != ar.FHIRUser {
			page(c, http.StatusForbidden, "Autre utilisateur", "Cette demande a été commencée par un autre utilisateur.")
			return
		}
	}
	switch c.PostForm("action") {
	case "search":
		q := strings.TrimSpace(c.PostForm("q"))
		if len(q) > maxPickerQuery {
			q = q[:maxPickerQuery]
		}
		s.nextStep(c, &ar, q)
	case "pick":
		id := c.PostForm("patient")
		if id == "" || s.patients == nil {
			page(c, http.StatusBadRequest, "Patient inconnu", "Choisissez un patient dans la liste.")
			return
		}
		if p, err := s.patients.Summary(ctx, id); err != nil || p == nil {
			page(c, http.StatusBadRequest, "Patient inconnu", "Choisissez un patient dans la liste.")
			return
		}
		if oe := s.checkPatientAccess(ctx, ar.FHIRUser, id); oe != nil {
			page(c, http.StatusForbidden, "Patient hors de votre périmètre", "Vous ne pouvez ouvrir que le dossier des patients dont vous avez la charge.")
			return
		}
		ar.Patient = id
		if err := s.saveAuthRequest(c, &ar); err != nil {
			page(c, http.StatusInternalServerError, "Erreur", "La demande n'a pas pu être enregistrée.")
			return
		}
		s.nextStep(c, &ar, "")
	case "approve":
		if ar.needsPatient() {
			s.nextStep(c, &ar, "")
			return
		}
		if oe := s.checkPatientAccess(ctx, ar.FHIRUser, ar.Patient); oe != nil {
			_ = s.kv.Put(ctx, nsAuthReq, ar.ID, nil)
			redirectError(c, ar.RedirectURI, ar.State, "access_denied", oe.desc)
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

// sameOrigin reports whether a form post may come from this server's own pages: its
// Origin, or without one its Referer, names the issuer's origin. Browsers send
// Origin on every cross-origin POST ("null" from opaque or privacy-restricted
// contexts, refused too), so a post carrying neither header is no cross-site forgery
// but a non-browser client, which the request id already binds to its flow.
func (s *AuthServer) sameOrigin(r *http.Request) bool {
	u, err := url.Parse(s.cfg.Issuer)
	if err != nil {
		return false
	}
	own := strings.ToLower(u.Scheme + "://" + u.Host)
	if o := r.Header.Get("Origin"); o != "" {
		return strings.ToLower(strings.TrimSuffix(o, "/")) == own
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		ru, err := url.Parse(ref)
		return err == nil && strings.ToLower(ru.Scheme+"://"+ru.Host) == own
	}
	return true
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
