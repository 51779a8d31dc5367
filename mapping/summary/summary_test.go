package summary

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
	"github.com/aitgw/aitgw/profiles"
)

var ctx = context.Background()

var ipsV struct {
	once sync.Once
	v    *profiles.Validator
	err  error
}

// ipsValidator is the project validator with hl7.fhir.uv.ips@2.0.0 loaded (npm pack
// into the cache the first time).
func ipsValidator(t testing.TB) *profiles.Validator {
	t.Helper()
	ipsV.once.Do(func() {
		tgz, err := profiles.FetchNPM(ctx, profiles.IPSPackage, profiles.IPSVersion)
		if err != nil {
			ipsV.err = err
			return
		}
		ext, err := profiles.LoadNPM(tgz)
		if err != nil {
			ipsV.err = err
			return
		}
		pkg, err := profiles.Load()
		if err != nil {
			ipsV.err = err
			return
		}
		v, err := profiles.NewValidator(pkg)
		if err != nil {
			ipsV.err = err
			return
		}
		ipsV.v, _, ipsV.err = v.WithExternal(ext)
	})
	if ipsV.err != nil {
		t.Fatal(ipsV.err)
	}
	return ipsV.v
}

// pathwayPatient stores the AIT guide's examples: a full pathway patient (referral,
// labs, RCP, implantation, pump, prescription, refill, IR act, care plans, GP).
func pathwayPatient(t testing.TB) *rest.Service {
	t.Helper()
	svc := resttest.Service(t, 50)
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range pkg.Examples() {
		if _, err := svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: ex.Type, ID: ex.ID, Body: ex.Body}); err != nil {
			t.Fatalf("%s/%s: %v", ex.Type, ex.ID, err)
		}
	}
	return svc
}

func build(t testing.TB, svc *rest.Service, patient string, allowed func(string) bool) []byte {
	t.Helper()
	var out []byte
	err := svc.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		out, err = Build(Snapshot{Tx: tx, Match: svc.Engine.Match}, Input{Patient: patient, Base: resttest.Base,
			Now: time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC), Allowed: allowed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func errorsOf(oo *fhir.OperationOutcome) []string {
	var out []string
	for _, is := range oo.Issue {
		if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
			out = append(out, is.Diagnostics+" @ "+strings.Join(is.Expression, ","))
		}
	}
	return out
}

type section struct {
	Title       string
	Code        struct{ Coding []struct{ Code string } }
	Text        *struct{ Div string }
	Entry       []struct{ Reference string }
	EmptyReason *struct{ Coding []struct{ Code string } }
}

func sections(t *testing.T, doc []byte, gp string) map[string]section {
	var b struct {
		Type  string
		Entry []struct {
			Resource struct {
				ResourceType string
				Type         struct{ Coding []struct{ Code string } }
				Attester     []struct{ Party struct{ Reference string } }
				Section      []section
			}
		}
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		t.Fatal(err)
	}
	if b.Type != "document" || b.Entry[0].Resource.ResourceType != "Composition" || b.Entry[0].Resource.Type.Coding[0].Code != "60591-5" {
		t.Fatalf("not an IPS document: %.300s", doc)
	}
	out := map[string]section{}
	for _, s := range b.Entry[0].Resource.Section {
		out[s.Code.Coding[0].Code] = s
	}
	if len(b.Entry[0].Resource.Attester) == 0 || b.Entry[0].Resource.Attester[0].Party.Reference != gp {
		t.Errorf("the GP is not a participant: %v", b.Entry[0].Resource.Attester)
	}
	return out
}

// TestSummaryOfPathwayPatient: the summary of a full pathway patient validates
// against Bundle-uv-ips (and each entry against the IPS profile it claims), has every
// section with a French narrative, and shows the intrathecal mixture, the pump and
// the next steps.
func TestSummaryOfPathwayPatient(t *testing.T) {
	v := ipsValidator(t)
	svc := pathwayPatient(t)
	doc := build(t, svc, "ait-patient-example", nil)
	if errs := errorsOf(v.Validate(doc, ProfileBundle)); len(errs) > 0 {
		t.Errorf("IPS validation: %d errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	ss := sections(t, doc, "Practitioner/ait-gp-example")
	for code, want := range map[string][]string{
		"10160-0": {"Mélange intrathécal", "50 mg/mL", "3 mg/j", "2,4 µg/j"},
		"46264-8": {"réservoir 40 mL", "cathéter en D5", "prochain remplissage le 30/06/2026"},
		"47519-4": {"Implantation", "Remplissage"},
		"18776-5": {"prochaines étapes", "Hospitalisation et implantation : programmé du 01/04/2026 au 09/04/2026"},
		"30954-2": {},
		"11450-4": {},
		"48765-2": {"Aucune information"},
	} {
		s, ok := ss[code]
		if !ok || s.Text == nil || !strings.Contains(s.Text.Div, `lang="fr-FR"`) {
			t.Errorf("section %s missing or without French narrative", code)
			continue
		}
		for _, w := range want {
			if !strings.Contains(s.Text.Div, w) {
				t.Errorf("section %s (%s) narrative lacks %q: %s", code, s.Title, w, s.Text.Div)
			}
		}
		if len(s.Entry) == 0 && s.EmptyReason == nil {
			t.Errorf("section %s has neither entries nor emptyReason", code)
		}
	}
}

// TestSummaryEmptySections: a patient with nothing recorded gets every section with
// an emptyReason; a reader without access to a type gets "withheld"; both documents
// validate against IPS.
func TestSummaryEmptySections(t *testing.T) {
	v := ipsValidator(t)
	svc := resttest.Service(t, 50)
	svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "Practitioner", ID: "gp", Body: []byte(`{"resourceType":"Practitioner","id":"gp","name":[{"family":"Généraliste"}]}`)})
	svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "Patient", ID: "p", Body: []byte(`{"resourceType":"Patient","id":"p","name":[{"family":"Vide"}],"birthDate":"1950-01-01","generalPractitioner":[{"reference":"Practitioner/gp"}]}`)})
	svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "Condition", ID: "c", Body: []byte(`{"resourceType":"Condition","id":"c","code":{"text":"adénocarcinome pancréatique"},"subject":{"reference":"Patient/p"}}`)})
	doc := build(t, svc, "p", nil)
	if errs := errorsOf(v.Validate(doc, ProfileBundle)); len(errs) > 0 {
		t.Errorf("IPS validation: %v", errs)
	}
	ss := sections(t, doc, "Practitioner/gp")
	if s := ss["10160-0"]; s.EmptyReason == nil || s.EmptyReason.Coding[0].Code != "unavailable" {
		t.Errorf("medications: %+v", s)
	}
	doc = build(t, svc, "p", func(typ string) bool { return typ != "Condition" })
	if errs := errorsOf(v.Validate(doc, ProfileBundle)); len(errs) > 0 {
		t.Errorf("IPS validation: %v", errs)
	}
	if s := sections(t, doc, "Practitioner/gp")["11450-4"]; s.EmptyReason == nil || s.EmptyReason.Coding[0].Code != "withheld" || strings.Contains(string(doc), "pancréatique") {
		t.Errorf("problems not withheld: %+v", s)
	}
}

// BenchmarkSummary is $summary's assembly for the full pathway patient.
func BenchmarkSummary(b *testing.B) {
	svc := pathwayPatient(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		build(b, svc, "ait-patient-example", nil)
	}
}
