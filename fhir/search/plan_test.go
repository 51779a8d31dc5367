package search

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
)

// countingTx counts the index rows a search reads, and its index scans.
type countingTx struct {
	fhir.Tx
	rows, scans int
}

func (c *countingTx) ScanIndex(typ, param string, from, to []byte, fn func([]byte, string) bool) error {
	c.scans++
	return c.Tx.ScanIndex(typ, param, from, to, func(k []byte, id string) bool {
		c.rows++
		return fn(k, id)
	})
}

// population seeds patients with observations of one common code each, and one
// patient ("rare") with the only observation of a rare code.
// It is written to the embedded store (fhir/bolt), in one transaction; fn runs on a
// snapshot of it.
func planPopulation(t *testing.T, patients int, fn func(r *Registry, tx fhir.Tx)) {
	t.Helper()
	r := newTestRegistry(t)
	r.SetBase("http://gw.test/fhir")
	st, err := bolt.Open(filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Update(ctx, func(tx fhir.Tx) error {
		planSeed(t, r, tx, patients)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.View(ctx, func(tx fhir.Tx) error { fn(r, tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

func planSeed(t *testing.T, r *Registry, tx fhir.Tx, patients int) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for p := range patients {
		seed(t, r, tx, at, fmt.Sprintf(`{"resourceType":"Patient","id":"p%d","identifier":[{"system":"urn:mrn","value":"%d"}],"name":[{"family":"Fam%d"}]}`, p, p, p%10))
		for o := range 4 {
			seed(t, r, tx, at, fmt.Sprintf(`{"resourceType":"Observation","id":"o%d-%d","status":"final","subject":{"reference":"Patient/p%d"},`+
				`"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"effectiveDateTime":"2024-01-%02dT08:00:00Z"}`, p, o, p, 1+o))
		}
	}
	seed(t, r, tx, at, `{"resourceType":"Observation","id":"rare","status":"final","subject":{"reference":"Patient/p7"},`+
		`"code":{"coding":[{"system":"http://loinc.org","code":"2857-1"}]},"effectiveDateTime":"2024-02-01"}`)
}

// The probe that counts a clause in full has found its matches: the clause is not
// scanned again (each index scan seeks once per generation of the store's index).
// Subject+code: one probe of each clause, the subject's being its answer.
func TestPlanReusesFullProbe(t *testing.T) {
	planPopulation(t, 100, func(r *Registry, store fhir.Tx) {
		tx := &countingTx{Tx: store}
		got := search(t, r, tx, "Observation", "subject=Patient/p7&code=http://loinc.org|8480-6")
		if want := "[o7-0 o7-1 o7-2 o7-3]"; fmt.Sprint(got) != want {
			t.Errorf("subject+code: %v, want %s", got, want)
		}
		if tx.scans != 2 {
			t.Errorf("subject+code: %d index scans, want 2 (one probe of each clause)", tx.scans)
		}
	})
}

// A selective query reads about as many index rows on a store ten times larger: the
// planner starts from the selective clause and checks the common one on the
// candidates, instead of reading every Observation of the common code.
func TestPlanSelectiveQueryDoesNotGrowWithStore(t *testing.T) {
	queries := []struct{ typ, q string }{
		{"Observation", "subject=Patient/p7&code=http://loinc.org|8480-6"},
		{"Observation", "code=http://loinc.org|8480-6&subject=Patient/p7"},
		{"Observation", "subject=Patient/p7&status=final&_sort=-date"},
		{"Patient", "_has:Observation:subject:code=http://loinc.org|2857-1&name=Fam7"},
	}
	rows := map[int][]int{}
	results := map[int][][]string{}
	for _, n := range []int{100, 1000} {
		planPopulation(t, n, func(r *Registry, store fhir.Tx) {
			for _, q := range queries {
				tx := &countingTx{Tx: store}
				results[n] = append(results[n], search(t, r, tx, q.typ, q.q))
				rows[n] = append(rows[n], tx.rows)
			}
		})
	}
	for i, q := range queries {
		if fmt.Sprint(results[100][i]) != fmt.Sprint(results[1000][i]) {
			t.Errorf("%s?%s: %v at 100 patients, %v at 1000", q.typ, q.q, results[100][i], results[1000][i])
		}
		if rows[1000][i] > 2*rows[100][i]+8 {
			t.Errorf("%s?%s read %d index rows at 100 patients, %d at 1000: grows with the store", q.typ, q.q, rows[100][i], rows[1000][i])
		}
	}
	if want := "[o7-0 o7-1 o7-2 o7-3]"; fmt.Sprint(results[1000][0]) != want {
		t.Errorf("subject+code: %v, want %s", results[1000][0], want)
	}
	if want := "[p7]"; fmt.Sprint(results[1000][3]) != want {
		t.Errorf("_has+name: %v, want %s", results[1000][3], want)
	}
}

// The planner's answers are those of evaluating every clause in full, including
// when a candidate's only matching key must be checked on the resource (capped).
func TestPlanCheckMatchesFullEvaluation(t *testing.T) {
	r := newTestRegistry(t)
	r.SetBase("http://gw.test/fhir")
	tx := newMemTx()
	planSeed(t, r, tx, 50)
	long := fmt.Sprintf("%0*d", maxKeyLen+50, 7)
	seed(t, r, tx, day0, `{"resourceType":"Patient","id":"long","identifier":[{"system":"urn:mrn","value":"`+long+`"}],"name":[{"family":"Fam7"}]}`)
	for _, q := range []string{"name=Fam7&identifier=urn:mrn|" + long, "identifier=urn:mrn|" + long[:len(long)-1] + "8&name=Fam7", "name=Fam7&identifier=urn:mrn|7"} {
		got := search(t, r, tx, "Patient", q)
		var want []string // nil: the near-miss value matches nothing
		switch q {
		case "name=Fam7&identifier=urn:mrn|" + long:
			want = []string{"long"}
		case "name=Fam7&identifier=urn:mrn|7":
			want = []string{"p7"}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Patient?%.60s…: %v, want %v", q, got, want)
		}
	}
}
