package search

import (
	"context"
	"path/filepath"

	"github.com/aitgw/aitgw/fhir/bolt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// day0 is the lastUpdated of the first seeded resource; each next one is a day later.
var day0 = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

// fixture is a small pathway: four patients, a practitioner, an organization, four
// pain/vital observations, an encounter and a provenance.
var fixture = []string{
	`{"resourceType":"Patient","id":"p1","active":true,"gender":"female","birthDate":"1950-03-12",
	  "identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"1500312345678"}],
	  "name":[{"family":"Dupont","given":["Hélène"]}],"telecom":[{"system":"phone","value":"0600000000"}],
	  "address":[{"city":"Lyon","postalCode":"69003"}]}`,
	`{"resourceType":"Patient","id":"p2","active":false,"gender":"male","birthDate":"1950",
	  "identifier":[{"system":"urn:ipp","value":"IPP2"}],"name":[{"family":"Durand","given":["Jean"]}]}`,
	`{"resourceType":"Patient","id":"p3","gender":"female","birthDate":"1985-07-01",
	  "identifier":[{"system":"urn:ipp","value":"IPP3"}],"name":[{"family":"Martin","given":["Éloïse"]}],
	  "generalPractitioner":[{"reference":"Practitioner/dr1"}]}`,
	`{"resourceType":"Patient","id":"p4","gender":"male","birthDate":"2001-01-01",
	  "name":[{"family":"Dupontel","given":["Marc"]}],"managingOrganization":{"reference":"Organization/org1"}}`,
	`{"resourceType":"Practitioner","id":"dr1","identifier":[{"system":"rpps","value":"10001"}],"name":[{"family":"House"}]}`,
	`{"resourceType":"Organization","id":"org1","name":"CHU Lyon"}`,
	`{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
	  "code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},"effectiveDateTime":"2024-03-10T10:00:00Z",
	  "valueQuantity":{"value":7,"system":"http://unitsofmeasure.org","code":"{score}"},
	  "performer":[{"reference":"Practitioner/dr1"}]}`,
	`{"resourceType":"Observation","id":"o2","status":"preliminary","subject":{"reference":"Patient/p1"},
	  "code":{"coding":[{"system":"http://loinc.org","code":"72514-3"}]},
	  "effectivePeriod":{"start":"2024-03-01","end":"2024-03-31"},
	  "valueQuantity":{"value":3,"system":"http://unitsofmeasure.org","code":"{score}"}}`,
	`{"resourceType":"Observation","id":"o3","status":"final","subject":{"reference":"Patient/p2"},
	  "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"effectiveDateTime":"2024-04-02",
	  "valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
	`{"resourceType":"Observation","id":"o4","status":"final","subject":{"reference":"Patient/p3"},
	  "code":{"coding":[{"code":"pain"}],"text":"Douleur neuropathique"},"effectiveDateTime":"2023",
	  "valueQuantity":{"value":5.5,"unit":"mg"}}`,
	`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"}}`,
	`{"resourceType":"Provenance","id":"pv1","target":[{"reference":"Observation/o1"}],"recorded":"2024-03-10T11:00:00Z",
	  "agent":[{"who":{"reference":"Practitioner/dr1"}}]}`,
}

func seeded(t testing.TB) (*Registry, *memTx) {
	t.Helper()
	r := newTestRegistry(t)
	r.SetBase("http://gw.test/fhir")
	tx := newMemTx()
	for i, body := range fixture {
		seed(t, r, tx, day0.AddDate(0, 0, i), body)
	}
	return r, tx
}

// search runs a lenient query and returns the ids in result order.
func search(t *testing.T, r *Registry, tx fhir.Tx, typ, raw string) []string {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, _, ferr := r.ParseQuery(typ, v, false)
	if ferr != nil {
		t.Fatalf("%s?%s: %v", typ, raw, ferr)
	}
	res, err := r.Execute(tx, q)
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, raw, err)
	}
	if res.Total != len(res.IDs) {
		t.Errorf("%s?%s: Total %d, %d ids", typ, raw, res.Total, len(res.IDs))
	}
	return res.IDs
}

func TestSearchParameterTypes(t *testing.T) { eachStore(t, testSearchParameterTypes) }

func testSearchParameterTypes(t *testing.T, r *Registry, tx fhir.Tx) {
	cases := []struct {
		typ, query string
		want       []string
	}{
		// string: starts-with, accents and case folded, :exact, :contains
		{"Patient", "family=dup", []string{"p1", "p4"}},
		{"Patient", "family=DUPONT", []string{"p1", "p4"}},
		{"Patient", "family:exact=Dupont", []string{"p1"}},
		{"Patient", "family:exact=dupont", nil},
		{"Patient", "family:contains=pon", []string{"p1", "p4"}},
		{"Patient", "given=helene", []string{"p1"}},
		{"Patient", "name=eloise", []string{"p3"}},
		{"Patient", "address-city=lyon", []string{"p1"}},
		{"Organization", "name=chu", []string{"org1"}},
		// token: code, system|code, system|, |code, :not, :text, boolean, ContactPoint
		{"Patient", "gender=female", []string{"p1", "p3"}},
		{"Patient", "gender:not=female", []string{"p2", "p4"}},
		{"Patient", "identifier=urn:ipp|IPP2", []string{"p2"}},
		{"Patient", "identifier=urn:ipp|", []string{"p2", "p3"}},
		{"Patient", "identifier=IPP3", []string{"p3"}},
		{"Patient", "identifier=|IPP3", nil},
		{"Patient", "active=true", []string{"p1"}},
		{"Patient", "telecom=0600000000", []string{"p1"}},
		{"Observation", "code=http://loinc.org|72514-3", []string{"o1", "o2"}},
		{"Observation", "code=72514-3", []string{"o1", "o2"}},
		{"Observation", "code=|pain", []string{"o4"}},
		{"Observation", "code:text=douleur", []string{"o4"}},
		{"Observation", "status=preliminary", []string{"o2"}},
		// :missing
		{"Patient", "active:missing=true", []string{"p3", "p4"}},
		{"Patient", "active:missing=false", []string{"p1", "p2"}},
		// OR with commas, AND by repetition and across parameters
		{"Patient", "gender=male,female&family=dur", []string{"p2"}},
		{"Patient", "family=dupont&family=dupontel", []string{"p4"}},
		{"Patient", "_id=p1,p3", []string{"p1", "p3"}},
		// reference: Type/id, id, :Type, absolute URL under the server base
		{"Patient", "general-practitioner=Practitioner/dr1", []string{"p3"}},
		{"Patient", "general-practitioner=dr1", []string{"p3"}},
		{"Patient", "general-practitioner:Practitioner=dr1", []string{"p3"}},
		{"Patient", "general-practitioner=http://gw.test/fhir/Practitioner/dr1", []string{"p3"}},
		{"Patient", "organization=Organization/org1", []string{"p4"}},
		{"Observation", "subject=Patient/p1", []string{"o1", "o2"}},
		{"Observation", "patient=p1", []string{"o1", "o2"}},
		// quantity and number
		{"Observation", "value-quantity=7", []string{"o1"}},
		{"Observation", "value-quantity=gt5", []string{"o1", "o3", "o4"}},
		{"Observation", "value-quantity=le5.5", []string{"o2", "o4"}},
		{"Observation", "value-quantity=5.5||mg", []string{"o4"}},
		{"Observation", "value-quantity=120|http://unitsofmeasure.org|mm[Hg]", []string{"o3"}},
		{"Observation", "value-quantity=ap115", []string{"o3"}},
		{"Observation", "value-quantity=ne7", []string{"o2", "o3", "o4"}},
		// composite
		{"Observation", "code-value-quantity=http://loinc.org|72514-3$gt5", []string{"o1"}},
		{"Observation", "code-value-quantity=72514-3$3", []string{"o2"}},
		// chains and reverse chain
		{"Observation", "subject:Patient.family=durand", []string{"o3"}},
		{"Patient", "general-practitioner.name=house", []string{"p3"}},
		{"Patient", "general-practitioner:Practitioner.identifier=rpps|10001", []string{"p3"}},
		{"Patient", "_has:Observation:patient:code=http://loinc.org|8480-6", []string{"p2"}},
		// _lastUpdated (seeded a day apart from 2024-05-01)
		{"Observation", "_lastUpdated=2024-05-07", []string{"o1"}},
		{"Observation", "_lastUpdated=ge2024-05-08", []string{"o2", "o3", "o4"}},
	}
	for _, c := range cases {
		got := search(t, r, tx, c.typ, c.query)
		if !sameIDs(got, c.want) {
			t.Errorf("%s?%s = %v, want %v", c.typ, c.query, got, c.want)
		}
	}
}

// TestSearchDates covers partial dates, Periods and every prefix (R4 §3.1.1.4.1
// search/date: the stored and searched values are intervals).
func TestSearchDates(t *testing.T) { eachStore(t, testSearchDates) }

func testSearchDates(t *testing.T, r *Registry, tx fhir.Tx) {
	cases := []struct {
		typ, query string
		want       []string
	}{
		{"Patient", "birthdate=1950", []string{"p1", "p2"}},
		{"Patient", "birthdate=1950-03", []string{"p1"}}, // p2 (all of 1950) is not within March
		{"Patient", "birthdate=1950-03-12", []string{"p1"}},
		{"Patient", "birthdate=eq1950-03-12", []string{"p1"}},
		{"Patient", "birthdate=ne1950", []string{"p3", "p4"}},
		{"Patient", "birthdate=lt1960", []string{"p1", "p2"}},
		{"Patient", "birthdate=lt1950-01-01", nil},
		{"Patient", "birthdate=le1950-03-12", []string{"p1", "p2"}},
		{"Patient", "birthdate=gt1985-07-01", []string{"p4"}},
		{"Patient", "birthdate=ge1985-07-01", []string{"p3", "p4"}},
		{"Patient", "birthdate=gt1950-06", []string{"p2", "p3", "p4"}}, // p2 runs to 1950-12-31
		{"Patient", "birthdate=sa1950-06", []string{"p3", "p4"}},
		{"Patient", "birthdate=eb1960", []string{"p1", "p2"}},
		{"Patient", "birthdate=eb1950-06", []string{"p1"}},
		{"Patient", "birthdate=ge1950&birthdate=lt1951", []string{"p1", "p2"}},
		{"Observation", "date=2024-03", []string{"o1", "o2"}},
		{"Observation", "date=2024-03-10", []string{"o1"}}, // the March period is wider
		{"Observation", "date=2024-03-10T10:00:00Z", []string{"o1"}},
		{"Observation", "date=2024-03-10T10:00:00%2B00:00", []string{"o1"}},
		{"Observation", "date=ge2024-03-15", []string{"o2", "o3"}}, // o2 ends 03-31
		{"Observation", "date=sa2024-02-28", []string{"o1", "o2", "o3"}},
		{"Observation", "date=eb2024", []string{"o4"}},
		{"Observation", "date=lt2024-03-05", []string{"o2", "o4"}}, // o2 starts 03-01
		{"Observation", "date=2023-06-15", nil},                    // 2023 is wider than a day
		{"Observation", "date=ap2023-06", []string{"o4"}},
	}
	for _, c := range cases {
		got := search(t, r, tx, c.typ, c.query)
		if !sameIDs(got, c.want) {
			t.Errorf("%s?%s = %v, want %v", c.typ, c.query, got, c.want)
		}
	}
}

func TestSortSeveralKeys(t *testing.T) { eachStore(t, testSortSeveralKeys) }

func testSortSeveralKeys(t *testing.T, r *Registry, tx fhir.Tx) {
	cases := []struct {
		query string
		want  []string
	}{
		{"_sort=gender,-birthdate", []string{"p3", "p1", "p4", "p2"}},
		{"_sort=family", []string{"p1", "p4", "p2", "p3"}},
		{"_sort=-_id", []string{"p4", "p3", "p2", "p1"}},
		{"_sort=-_lastUpdated", []string{"p4", "p3", "p2", "p1"}},
		{"_sort=active,_id", []string{"p2", "p1", "p3", "p4"}}, // missing values last
		{"", []string{"p1", "p2", "p3", "p4"}},                 // default: by id
	}
	for _, c := range cases {
		got := search(t, r, tx, "Patient", c.query)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Patient?%s = %v, want %v (in order)", c.query, got, c.want)
		}
	}
}

func TestIncludeRevinclude(t *testing.T) { eachStore(t, testIncludeRevinclude) }

func testIncludeRevinclude(t *testing.T, r *Registry, tx fhir.Tx) {
	cases := []struct {
		typ, query string
		ids, inc   []string
	}{
		{"Observation", "code=8480-6&_include=Observation:subject", []string{"o3"}, []string{"Patient/p2"}},
		{"Observation", "code=pain&_include=Observation:subject&_include:iterate=Patient:general-practitioner",
			[]string{"o4"}, []string{"Patient/p3", "Practitioner/dr1"}},
		{"Observation", "code=pain&_include=Observation:subject&_include=Patient:general-practitioner",
			[]string{"o4"}, []string{"Patient/p3"}}, // without :iterate only the matches are followed
		{"Observation", "_id=o1&_include=Observation:subject:Practitioner", []string{"o1"}, nil},
		{"Observation", "_id=o1&_include=*", []string{"o1"}, []string{"Patient/p1", "Practitioner/dr1"}},
		{"Observation", "_id=o1&_revinclude=Provenance:target", []string{"o1"}, []string{"Provenance/pv1"}},
		{"Patient", "_id=p1&_revinclude=Observation:subject&_revinclude:iterate=Provenance:target",
			[]string{"p1"}, []string{"Observation/o1", "Observation/o2", "Provenance/pv1"}},
		{"Patient", "_id=p1&_revinclude=Observation:subject&_include=Observation:subject",
			[]string{"p1"}, []string{"Observation/o1", "Observation/o2"}}, // p1 itself is a match, not included
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.query)
		q, _, ferr := r.ParseQuery(c.typ, v, true)
		if ferr != nil {
			t.Fatalf("%s?%s: %v", c.typ, c.query, ferr)
		}
		res, err := r.Execute(tx, q)
		if err != nil {
			t.Fatal(err)
		}
		var inc []string
		for _, rec := range res.Included {
			inc = append(inc, rec.Type+"/"+rec.ID)
		}
		if !sameIDs(res.IDs, c.ids) || !sameIDs(inc, c.inc) {
			t.Errorf("%s?%s = %v + %v, want %v + %v", c.typ, c.query, res.IDs, inc, c.ids, c.inc)
		}
	}
}

func TestStrictAndLenient(t *testing.T) { eachStore(t, testStrictAndLenient) }

func testStrictAndLenient(t *testing.T, r *Registry, tx fhir.Tx) {
	for _, raw := range []string{"foo=bar", "family:near=x", "gender:below=f", "subject.subject.name=x", "_sort=nonesuch"} {
		v, _ := url.ParseQuery(raw)
		q, issues, ferr := r.ParseQuery("Patient", v, false)
		if ferr != nil || len(issues) != 1 || issues[0].Severity != fhir.SeverityWarning {
			t.Errorf("lenient %s: err %v, issues %+v; want one warning", raw, ferr, issues)
			continue
		}
		if res, err := r.Execute(tx, q); err != nil || len(res.IDs) != 4 {
			t.Errorf("lenient %s: the ignored parameter must not filter: %v %v", raw, res, err)
		}
		_, _, ferr = r.ParseQuery("Patient", v, true)
		if ferr == nil || ferr.Status != http.StatusBadRequest || len(ferr.Outcome.Issue[0].Expression) == 0 {
			t.Errorf("strict %s: got %v, want a 400 naming the parameter", raw, ferr)
		}
	}
	bad := map[string]string{
		"birthdate=20-20":        "birthdate",
		"birthdate=xx2020":       "birthdate",
		"birthdate=2020-13-01":   "birthdate",
		"_count=-1":              "_count",
		"_summary=maybe":         "_summary",
		"_total=some":            "_total",
		"active:missing=perhaps": "active:missing",
		"_include=Observation":   "_include",
	}
	for raw, expr := range bad {
		v, _ := url.ParseQuery(raw)
		_, _, ferr := r.ParseQuery("Patient", v, false)
		if ferr == nil || ferr.Status != http.StatusBadRequest || ferr.Outcome.Issue[0].Expression[0] != expr {
			t.Errorf("%s: got %v, want a 400 with expression %s", raw, ferr, expr)
		}
	}
	for raw, expr := range map[string]string{"value-quantity=abc": "value-quantity", "value-quantity=5|x": "value-quantity"} {
		v, _ := url.ParseQuery(raw)
		_, _, ferr := r.ParseQuery("Observation", v, false)
		if ferr == nil || ferr.Outcome.Issue[0].Expression[0] != expr {
			t.Errorf("%s: got %v, want a 400 with expression %s", raw, ferr, expr)
		}
	}
}

func TestResultControls(t *testing.T) {
	r := newTestRegistry(t)
	v, _ := url.ParseQuery("_count=10&_summary=count&_total=accurate&_elements=name,gender&_format=json&_pretty=true")
	q, issues, ferr := r.ParseQuery("Patient", v, true)
	if ferr != nil || len(issues) != 0 {
		t.Fatal(ferr, issues)
	}
	if q.Count != 10 || q.Summary != "count" || q.Total != "accurate" || !reflect.DeepEqual(q.Elements, []string{"name", "gender"}) {
		t.Errorf("controls parsed as %+v", q)
	}
}

func TestMatchConditional(t *testing.T) { eachStore(t, testMatchConditional) }

func testMatchConditional(t *testing.T, r *Registry, tx fhir.Tx) {
	ids, err := r.Match(tx, "Patient", "identifier=urn:ipp|IPP2")
	if err != nil || !reflect.DeepEqual(ids, []string{"p2"}) {
		t.Errorf("Match identifier = %v, %v", ids, err)
	}
	ids, err = r.Match(tx, "Patient", "identifier=urn:ipp%7CIPP9")
	if err != nil || len(ids) != 0 {
		t.Errorf("Match no such identifier = %v, %v", ids, err)
	}
	for _, raw := range []string{"", "identifer=urn:ipp|IPP2", "_count=1"} {
		if _, err := r.Match(tx, "Patient", raw); err == nil || fhir.AsError(err).Status != http.StatusBadRequest {
			t.Errorf("Match(%q) = %v, want a 400", raw, err)
		}
	}
}

func TestEscapedComma(t *testing.T) {
	r := newTestRegistry(t)
	tx := newMemTx()
	seed(t, r, tx, day0, `{"resourceType":"Organization","id":"a","name":"Lyon, Sud"}`)
	seed(t, r, tx, day0, `{"resourceType":"Organization","id":"b","name":"Lyon"}`)
	if got := search(t, r, tx, "Organization", `name:exact=Lyon\, Sud`); !sameIDs(got, []string{"a"}) {
		t.Errorf(`name:exact=Lyon\, Sud = %v, want [a]`, got)
	}
	if got := search(t, r, tx, "Organization", `name:exact=Lyon,Lyon\, Sud`); !sameIDs(got, []string{"a", "b"}) {
		t.Errorf("OR with an escaped comma = %v, want [a b]", got)
	}
}

func sameIDs(got, want []string) bool {
	g := append([]string(nil), got...)
	w := append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	return strings.Join(g, ",") == strings.Join(w, ",")
}

// eachStore runs a search test on the seeded data set three times: on the in-memory
// transaction, and on the real embedded store (fhir/bolt) with its index in one
// generation and in many, so that the engine is checked against the store's own scan
// semantics too.
func eachStore(t *testing.T, test func(t *testing.T, r *Registry, tx fhir.Tx)) {
	t.Run("memory", func(t *testing.T) {
		r, tx := seeded(t)
		test(t, r, tx)
	})
	// bolt-generations: one resource per commit into index generations of two
	// resources, so that every scan merges generations (fhir/bolt generations.go).
	for _, v := range []struct {
		name      string
		opts      []bolt.Option
		perCommit bool
	}{{"bolt", nil, false}, {"bolt-generations", []bolt.Option{bolt.WithGenerationSize(2)}, true}} {
		t.Run(v.name, func(t *testing.T) {
			r := newTestRegistry(t)
			r.SetBase("http://gw.test/fhir")
			st, err := bolt.Open(filepath.Join(t.TempDir(), "search.db"), v.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			seedRange := func(from, to int) {
				if err := st.Update(ctx, func(tx fhir.Tx) error {
					for i := from; i < to; i++ {
						seed(t, r, tx, day0.AddDate(0, 0, i), fixture[i])
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			if v.perCommit {
				for i := range fixture {
					seedRange(i, i+1)
				}
			} else {
				seedRange(0, len(fixture))
			}
			if err := st.View(ctx, func(tx fhir.Tx) error { test(t, r, tx); return nil }); err != nil {
				t.Fatal(err)
			}
		})
	}
}
