package smart

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParseScope(t *testing.T) {
	cases := []struct {
		in      string
		ctx     string
		typ     string
		perms   Perm
		v2      bool
		constr  url.Values
		wantErr bool
	}{
		{in: "patient/CarePlan.read", ctx: "patient", typ: "CarePlan", perms: PermRead | PermSearch},
		{in: "user/*.write", ctx: "user", typ: "*", perms: PermCreate | PermUpdate | PermDelete},
		{in: "system/*.*", ctx: "system", typ: "*", perms: PermAll},
		{in: "patient/CarePlan.rs", ctx: "patient", typ: "CarePlan", perms: PermRead | PermSearch, v2: true},
		{in: "system/*.cruds", ctx: "system", typ: "*", perms: PermAll, v2: true},
		{in: "user/Observation.c", ctx: "user", typ: "Observation", perms: PermCreate, v2: true},
		{in: "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", ctx: "patient", typ: "Observation",
			perms: PermRead | PermSearch, v2: true, constr: url.Values{"category": {"http://terminology.hl7.org/CodeSystem/observation-category|laboratory"}}},
		{in: "patient/CarePlan.sr", wantErr: true},       // letters out of order
		{in: "patient/CarePlan.rr", wantErr: true},       // repeated
		{in: "patient/CarePlan.x", wantErr: true},        // unknown
		{in: "patient/Careplan.rs", wantErr: true},       // not an R4 type
		{in: "doctor/CarePlan.rs", wantErr: true},        // bad context
		{in: "patient/CarePlan", wantErr: true},          // no permissions
		{in: "patient/CarePlan.read?a=b", wantErr: true}, // constraint on v1
	}
	for _, c := range cases {
		s, err := ParseScope(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err %v", c.in, err)
			continue
		}
		if c.wantErr {
			continue
		}
		if s.Context != c.ctx || s.ResourceType != c.typ || s.Perms != c.perms || s.V2 != c.v2 || !reflect.DeepEqual(s.Constraint, c.constr) {
			t.Errorf("%s: got %+v", c.in, s)
		}
	}
}

func TestParseScopesSplitsOthers(t *testing.T) {
	rs, other, err := ParseScopes("openid fhirUser launch/patient patient/CarePlan.rs offline_access")
	if err != nil || len(rs) != 1 || !reflect.DeepEqual(other, []string{"openid", "fhirUser", "launch/patient", "offline_access"}) {
		t.Fatalf("%v %v %v", rs, other, err)
	}
}

func grantOf(t *testing.T, scope, patient string) *Grant {
	rs, other, err := ParseScopes(scope)
	if err != nil {
		t.Fatal(err)
	}
	return &Grant{Scopes: rs, Other: other, Patient: patient}
}

func TestGrantAllows(t *testing.T) {
	cases := []struct {
		scope, patient string
		in             Interaction
		typ            string
		want           bool
	}{
		{"patient/CarePlan.read", "p1", InteractionRead, "CarePlan", true},
		{"patient/CarePlan.read", "p1", InteractionSearch, "CarePlan", true},
		{"patient/CarePlan.read", "p1", InteractionCreate, "CarePlan", false},
		{"patient/CarePlan.read", "", InteractionRead, "CarePlan", false}, // no patient context
		{"user/*.write", "", InteractionUpdate, "Observation", true},
		{"user/*.write", "", InteractionRead, "Observation", false},
		{"patient/CarePlan.r", "p1", InteractionSearch, "CarePlan", false},
		{"patient/CarePlan.s", "p1", InteractionRead, "CarePlan", false},
		{"patient/CarePlan.r", "p1", InteractionHistoryInstance, "CarePlan", true},
		{"patient/CarePlan.r", "p1", InteractionHistoryType, "CarePlan", false},
		{"system/*.cruds", "", InteractionDelete, "Patient", true},
		{"system/*.cruds", "", InteractionSearch, "AuditEvent", false},
		{"system/AuditEvent.rs", "", InteractionSearch, "AuditEvent", true},
		{"user/AuditEvent.read", "", InteractionRead, "AuditEvent", true},
		{"system/AuditEvent.cruds", "", InteractionCreate, "AuditEvent", false},
		{"system/*.rs", "", InteractionOperation, "Patient", true},
		{"system/*.rs", "", 0, "Patient", false},
	}
	for _, c := range cases {
		if got := grantOf(t, c.scope, c.patient).Allows(c.in, c.typ); got != c.want {
			t.Errorf("%q (patient %q) %s %s = %v", c.scope, c.patient, c.in, c.typ, got)
		}
	}
}

func TestPatientScopedAndConstraints(t *testing.T) {
	g := grantOf(t, "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs user/CarePlan.rs patient/CarePlan.rs", "p1")
	if !g.PatientScoped(InteractionSearch, "Observation") {
		t.Error("Observation only via patient scopes must be confined")
	}
	if g.PatientScoped(InteractionSearch, "CarePlan") {
		t.Error("a user scope lifts the confinement")
	}
	want := []url.Values{{"category": {"laboratory"}}, {"category": {"vital-signs"}}}
	if got := g.Constraints("Observation"); !reflect.DeepEqual(got, want) {
		t.Errorf("constraints %v", got)
	}
	if got := g.Constraints("CarePlan"); got != nil {
		t.Errorf("unconstrained type got %v", got)
	}
	if g.PatientContext() != "p1" {
		t.Error("patient context")
	}
}

func TestScopeCovers(t *testing.T) {
	p := func(s string) Scope {
		x, err := ParseScope(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	cases := []struct {
		a, b string
		want bool
	}{
		{"system/*.cruds", "system/CarePlan.rs", true},
		{"system/*.rs", "system/CarePlan.c", false},
		{"user/*.read", "system/CarePlan.rs", false},
		{"patient/CarePlan.rs", "patient/CarePlan.rs?status=active", true},
		{"patient/CarePlan.rs?status=active", "patient/CarePlan.rs", false},
		{"system/*.cruds", "system/AuditEvent.rs", false},
	}
	for _, c := range cases {
		if got := p(c.a).Covers(p(c.b)); got != c.want {
			t.Errorf("%s covers %s = %v", c.a, c.b, got)
		}
	}
}

func TestCompartmentParams(t *testing.T) {
	cases := map[string][]string{
		"CarePlan":     {"patient", "performer"},
		"Observation":  {"subject", "performer"},
		"Patient":      {"_id", "link"},
		"Encounter":    {"patient"},
		"Medication":   nil,
		"Practitioner": nil,
	}
	for typ, want := range cases {
		if got := CompartmentParams(typ); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", typ, got, want)
		}
	}
	if n := len(patientCompartment); n < 60 {
		t.Errorf("compartment table has %d types", n)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		method, path string
		want         Access
	}{
		{"GET", "/CarePlan", Access{Interaction: InteractionSearch, ResourceType: "CarePlan"}},
		{"POST", "/CarePlan/_search", Access{Interaction: InteractionSearch, ResourceType: "CarePlan"}},
		{"POST", "/CarePlan", Access{Interaction: InteractionCreate, ResourceType: "CarePlan"}},
		{"GET", "/CarePlan/1", Access{Interaction: InteractionRead, ResourceType: "CarePlan", ID: "1"}},
		{"PATCH", "/CarePlan/1", Access{Interaction: InteractionPatch, ResourceType: "CarePlan", ID: "1"}},
		{"GET", "/CarePlan/1/_history/2", Access{Interaction: InteractionVRead, ResourceType: "CarePlan", ID: "1"}},
		{"GET", "/CarePlan/_history", Access{Interaction: InteractionHistoryType, ResourceType: "CarePlan"}},
		{"GET", "/Patient/p/$everything", Access{Interaction: InteractionOperation, ResourceType: "Patient", ID: "p"}},
		{"GET", "/Patient/p/CarePlan", Access{Interaction: InteractionSearch, ResourceType: "CarePlan", Compartment: "p"}},
		{"POST", "/", Access{System: true}},
		{"GET", "/_history", Access{System: true}},
	}
	for _, c := range cases {
		if got := Classify(c.method, c.path); got != c.want {
			t.Errorf("%s %s = %+v", c.method, c.path, got)
		}
	}
}
