package smart

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
)

// careStore is a bolt store holding the given resources ("Type/id" → JSON).
func careStore(t *testing.T, res map[string]string) fhir.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "care.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.Update(context.Background(), func(tx fhir.Tx) error {
		for ref, body := range res {
			typ, id, _ := strings.Cut(ref, "/")
			if err := tx.Put(&fhir.Record{Type: typ, ID: id, Version: 1, LastUpdated: time.Now(), Method: "PUT", Body: []byte(body)}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPatientsInCare: the one rule of "which patients may this user see".
func TestPatientsInCare(t *testing.T) {
	s := careStore(t, map[string]string{
		"CarePlan/cp1":                `{"resourceType":"CarePlan","subject":{"reference":"Patient/a"},"author":{"reference":"Practitioner/alg"}}`,
		"CarePlan/cp2":                `{"resourceType":"CarePlan","subject":{"reference":"Patient/b"},"careTeam":[{"reference":"CareTeam/t1"}]}`,
		"CarePlan/cp3":                `{"resourceType":"CarePlan","subject":{"reference":"Patient/c"},"activity":[{"detail":{"performer":[{"reference":"PractitionerRole/nurse-role"}]}}]}`,
		"CarePlan/cp4":                `{"resourceType":"CarePlan","subject":{"reference":"Patient/d"},"author":{"reference":"http://elsewhere.example/fhir/Practitioner/doc"}}`,
		"CarePlan/cp5":                `{"resourceType":"CarePlan","subject":{"reference":"Patient/e"},"author":{"reference":"Practitioner/doc2"}}`,
		"CareTeam/t1":                 `{"resourceType":"CareTeam","subject":{"reference":"Patient/b"},"participant":[{"member":{"reference":"Practitioner/doc"}}]}`,
		"CareTeam/t2":                 `{"resourceType":"CareTeam","subject":{"reference":"Patient/f"},"participant":[{"member":{"reference":"Practitioner/doc"}}]}`,
		"PractitionerRole/nurse-role": `{"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/nurse"}}`,
		"PractitionerRole/old":        `{"resourceType":"PractitionerRole","active":false,"practitioner":{"reference":"Practitioner/doc"},"code":[{"coding":[{"system":"https://fhir.aitgw.org/ig/ait/CodeSystem/ait-practitioner-role","code":"algologist"}]}]}`,
		"PractitionerRole/coord":      `{"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/chief"},"code":[{"coding":[{"system":"https://fhir.aitgw.org/ig/ait/CodeSystem/ait-practitioner-role","code":"algologist"}]}]}`,
		"RelatedPerson/rp":            `{"resourceType":"RelatedPerson","patient":{"reference":"Patient/a"}}`,
		"RelatedPerson/gone":          `{"resourceType":"RelatedPerson","active":false,"patient":{"reference":"Patient/b"}}`,
	})
	for _, tc := range []struct {
		user string
		all  bool
		want []string
	}{
		{"Patient/a", false, []string{"a"}},
		{"RelatedPerson/rp", false, []string{"a"}},
		{"RelatedPerson/gone", false, []string{}},
		{"Practitioner/alg", false, []string{"a"}},
		{"Practitioner/doc", false, []string{"b", "f"}}, // not d: an absolute URL names another server's doc
		{"Practitioner/nurse", false, []string{"c"}},
		{"PractitionerRole/nurse-role", false, []string{"c"}},
		{"Practitioner/chief", true, nil},
		{"PractitionerRole/coord", true, nil},
		{"Practitioner/nobody", false, []string{}},
		{"", false, []string{}},
		{"Device/x", false, []string{}},
	} {
		c, err := PatientsInCare(context.Background(), s, tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if c.All != tc.all || (!tc.all && !reflect.DeepEqual(c.IDs(), tc.want)) {
			t.Errorf("%q: all=%v ids=%v, want all=%v ids=%v", tc.user, c.All, c.IDs(), tc.all, tc.want)
		}
		if !tc.all && c.MaySee("e") {
			t.Errorf("%q may see e", tc.user)
		}
	}
}

// BenchmarkCareOf measures the practitioner rule over 5,000 pathway CarePlans (each
// with a 2 KB pathway state, as the gateway writes them), 500 of which name the
// practitioner: the cost a Practitioner user's request pays once.
func BenchmarkCareOf(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "care.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	state := strings.Repeat("x", 2048)
	err = s.Update(context.Background(), func(tx fhir.Tx) error {
		for i := 0; i < 5000; i++ {
			author := "Practitioner/other"
			if i%10 == 0 {
				author = "Practitioner/doc"
			}
			body := fmt.Sprintf(`{"resourceType":"CarePlan","id":"cp%d","extension":[{"url":"s","valueString":%q}],"subject":{"reference":"Patient/p%d"},"author":{"reference":%q}}`, i, state, i, author)
			if err := tx.Put(&fhir.Record{Type: "CarePlan", ID: fmt.Sprintf("cp%d", i), Version: 1, LastUpdated: time.Now(), Method: "PUT", Body: []byte(body)}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := PatientsInCare(context.Background(), s, "Practitioner/doc")
		if err != nil || len(c.Patients) != 500 {
			b.Fatalf("%v %d", err, len(c.Patients))
		}
	}
}
