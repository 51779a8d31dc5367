package pathway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// TestDossierStatusOperation: $ait-dossier-status on the stored referral answers the
// Parameters of 000 §V (the fixture's dossier is complete).
func TestDossierStatusOperation(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	id := strings.TrimPrefix(d.referral, "ServiceRequest/")
	resp, err := DossierStatus(w.svc)(ctx, &rest.Request{Method: "GET", Type: "ServiceRequest", ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"valueBoolean":true`) {
		t.Fatalf("fresh dossier: %d %s", resp.Status, resp.Body)
	}
	// Freshness is counted from the referral date (000 §V.2), not from today: the
	// same answer two months later.
	w.now = w.now.AddDate(0, 2, 0)
	again, err := DossierStatus(w.svc)(ctx, &rest.Request{Method: "GET", Type: "ServiceRequest", ID: id})
	if err != nil || string(again.Body) != string(resp.Body) {
		t.Errorf("two months later: %v %s", err, again.Body)
	}
	_, err = DossierStatus(w.svc)(ctx, &rest.Request{Method: "GET", Type: "ServiceRequest", ID: "nope"})
	if fe := fhir.AsError(err); err == nil || fe.Status != http.StatusNotFound {
		t.Errorf("unknown referral: %v", err)
	}
}

// noObservations is a grant that reads everything but Observations.
type noObservations struct{}

func (noObservations) Allows(interaction, typ string) bool              { return typ != "Observation" }
func (noObservations) Patient(string, string) string                    { return "" }
func (noObservations) CompartmentParams(string) []string                { return nil }
func (noObservations) Constraints(interaction, typ string) []url.Values { return nil }

// TestDossierStatusHonoursAccess: a client that may not read the labs gets a 403,
// not a dossier silently reported incomplete.
func TestDossierStatusHonoursAccess(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	_, err := DossierStatus(w.svc)(ctx, &rest.Request{Method: "GET", Type: "ServiceRequest",
		ID: strings.TrimPrefix(d.referral, "ServiceRequest/"), Access: noObservations{}})
	if fe := fhir.AsError(err); err == nil || fe.Status != http.StatusForbidden {
		t.Fatalf("want 403, got %v", err)
	}
}

// TestMirelsAndSINSOperations: the answers posted as Parameters give the score
// Observation (003 annex 4); a bad answer is a 400 naming the component.
func TestMirelsAndSINSOperations(t *testing.T) {
	w := newWorld(t)
	post := func(op Operation, params string) (*rest.Response, error) {
		return op(ctx, &rest.Request{Method: "POST", Type: "Observation", Body: []byte(`{"resourceType":"Parameters","parameter":[` + params + `]}`)})
	}
	resp, err := post(Mirels(w.svc), `{"name":"site","valueCode":"lower-limb"},{"name":"pain","valueCode":"moderate"},{"name":"size","valueCode":"1/3-2/3"},{"name":"lesion","valueCode":"mixed"},{"name":"subject","valueReference":{"reference":"Patient/p1"}}`)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("Mirels: %v", err)
	}
	b := string(resp.Body)
	if !strings.Contains(b, `"valueInteger":8`) || !strings.Contains(b, "mirels-intermediate") || !strings.Contains(b, `"Patient/p1"`) {
		t.Errorf("Mirels 8: %s", b)
	}
	g := guide(t, w)
	mustMeetGuide := func(name string, body []byte) {
		t.Helper()
		for _, is := range g.v.ValidateWith(ctx, nil, body).Issue {
			if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
				t.Errorf("%s output against the guide (003 annex 4): %v %s", name, is.Expression, is.Diagnostics)
			}
		}
	}
	mustMeetGuide("$mirels", resp.Body)
	if !strings.Contains(b, `"code":"mirels-size-1/3-2/3"`) {
		t.Errorf("Mirels answers are not coded component + answer: %s", b)
	}
	resp, err = post(SINS(w.svc), `{"name":"location","valueCode":"junctional"},{"name":"pain","valueCode":"mechanical"},{"name":"lesion","valueCode":"lytic"},{"name":"alignment","valueCode":"subluxation"},{"name":"collapse","valueCode":"none"},{"name":"posterior","valueCode":"unilateral"},{"name":"subject","valueReference":{"reference":"Patient/p1"}}`)
	if err != nil || !strings.Contains(string(resp.Body), `"valueInteger":13`) || !strings.Contains(string(resp.Body), "sins-unstable") {
		t.Errorf("SINS 13: %v %s", err, resp.Body)
	} else {
		mustMeetGuide("$sins", resp.Body)
	}
	_, err = post(Mirels(w.svc), `{"name":"site","valueCode":"skull"},{"name":"pain","valueCode":"mild"},{"name":"size","valueCode":"lt-1/3"},{"name":"lesion","valueCode":"blastic"}`)
	fe := fhir.AsError(err)
	if err == nil || fe.Status != http.StatusBadRequest || fe.Outcome.Issue[0].Expression[0] != "Observation.component.where(code.coding.code='mirels-site')" ||
		!strings.Contains(fe.Outcome.Issue[0].Diagnostics, "003 annex 4") {
		t.Errorf("bad answer: %v", err)
	}
}

// TestGuideRoleCodesAreRead: a PractitionerRole coded in the guide's
// ait-practitioner-role CodeSystem gives its role (pathways.md, "Actors"), the
// psychologist of the RCP included (000 §VI); an unknown code gives none.
func TestGuideRoleCodesAreRead(t *testing.T) {
	for code, want := range map[string]rules.Role{"algologist": rules.RoleAlgologist, "psychologist": rules.RolePsychologist,
		"refill-centre-physician": rules.RoleRefillCentre, "nurse": rules.RoleNurse, "astrologer": ""} {
		cc := object{"coding": []any{map[string]any{"system": mapping.CodeSystemRole, "code": code}}}
		if got := roleOf([]object{cc}); got != want {
			t.Errorf("%s: role %q, want %q", code, got, want)
		}
	}
}
