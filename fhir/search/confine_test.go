package search

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// seeOnly is a Confiner: the types it lists, each with the ids visible (nil: all);
// any other type is refused.
type seeOnly map[string]map[string]bool

func (s seeOnly) Visible(typ string) (map[string]bool, error) {
	set, ok := s[typ]
	if !ok {
		return nil, fhir.Errorf(http.StatusForbidden, "security", "", "no scope on %s", typ)
	}
	return set, nil
}

func confined(t *testing.T, r *Registry, tx fhir.Tx, see Confiner, typ, raw string) ([]string, []*fhir.Record, error) {
	t.Helper()
	v, _ := url.ParseQuery(raw)
	q, _, ferr := r.ParseQuery(typ, v, false)
	if ferr != nil {
		t.Fatalf("%s?%s: %v", typ, raw, ferr)
	}
	q.Confine = see
	res, err := r.Execute(tx, q)
	if err != nil {
		return nil, nil, err
	}
	return res.IDs, res.Included, nil
}

// TestConfinedChainsHasAndIncludes: the inner searches of chains and _has, and the
// include walk, stay within what the Confiner lets the requester see.
func TestConfinedChainsHasAndIncludes(t *testing.T) {
	r, tx := seeded(t)
	// Observations only: a chain into Patient is refused, not answered
	obsOnly := seeOnly{"Observation": nil}
	_, _, err := confined(t, r, tx, obsOnly, "Observation", "subject:Patient.gender=male")
	if fe := fhir.AsError(err); fe.Status != http.StatusForbidden || len(fe.Outcome.Issue) == 0 || !slices.Contains(fe.Outcome.Issue[0].Expression, "subject:Patient.gender") {
		t.Errorf("chain without the target's scope: want 403 naming the parameter, got %v", err)
	}
	// a _has on a refused type is refused
	if _, _, err := confined(t, r, tx, seeOnly{"Patient": nil}, "Patient", "_has:Observation:subject:status=final"); fhir.AsError(err).Status != http.StatusForbidden {
		t.Errorf("_has without the source's scope: %v", err)
	}
	// confined to p1: the chain and _has only look at p1's data
	p1 := seeOnly{"Observation": {"o1": true, "o2": true}, "Patient": {"p1": true}, "Practitioner": nil, "Encounter": {"e1": true}}
	if ids, _, err := confined(t, r, tx, p1, "Observation", "subject:Patient.gender=male"); err != nil || len(ids) != 0 {
		t.Errorf("chain to another patient: %v %v", ids, err)
	}
	if ids, _, err := confined(t, r, tx, p1, "Patient", "_has:Observation:subject:code=8480-6"); err != nil || len(ids) != 0 {
		t.Errorf("_has through another patient's Observation: %v %v", ids, err)
	}
	if ids, _, err := confined(t, r, tx, p1, "Patient", "_has:Observation:subject:status=final"); err != nil || !slices.Equal(ids, []string{"p1"}) {
		t.Errorf("_has within the compartment: %v %v", ids, err)
	}
	// includes: p2's resources are neither included nor walked through
	_, incs, err := confined(t, r, tx, p1, "Practitioner", "_revinclude=Observation:performer&_include:iterate=Observation:subject")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range incs {
		if p1[rec.Type] != nil && !p1[rec.Type][rec.ID] {
			t.Errorf("include reached %s/%s", rec.Type, rec.ID)
		}
		got = append(got, rec.Type+"/"+rec.ID)
	}
	if !slices.Contains(got, "Observation/o1") || !slices.Contains(got, "Patient/p1") {
		t.Errorf("the include walk lost what it may see: %v", got)
	}
	// a nil Confiner is the server itself: unconfined
	if ids, _, err := confined(t, r, tx, nil, "Observation", "subject:Patient.gender=male"); err != nil || len(ids) == 0 {
		t.Errorf("unconfined chain: %v %v", ids, err)
	}
}
