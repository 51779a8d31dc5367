package e2e

import (
	"strings"
	"testing"
)

// TestDiffIsSemanticAndExact: member order does not matter, number text does (FHIR
// decimal precision), and every difference names its path.
func TestDiffIsSemanticAndExact(t *testing.T) {
	decode := func(s string) map[string]any {
		v, err := DecodeJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v.(map[string]any)
	}
	a := decode(`{"resourceType":"Observation","valueQuantity":{"value":1.0,"unit":"mg"},"note":[{"text":"x"}]}`)
	same := decode(`{"note":[{"text":"x"}],"valueQuantity":{"unit":"mg","value":1.0},"resourceType":"Observation"}`)
	if d := Diff(a, same, "Observation", 10); len(d) != 0 {
		t.Errorf("member order must not matter: %v", d)
	}
	changed := decode(`{"resourceType":"Observation","valueQuantity":{"value":1,"unit":"mg"},"note":[],"extra":true}`)
	d := strings.Join(Diff(a, changed, "Observation", 10), "\n")
	for _, want := range []string{
		"Observation.valueQuantity.value: expected number 1.0, got number 1",
		"Observation.note: expected 1 items, got 0",
		"Observation.extra: unexpected element",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
}

// TestStripServerMeta keeps client meta (profile, tag) and drops only what the server
// owns.
func TestStripServerMeta(t *testing.T) {
	v, _ := DecodeJSON([]byte(`{"id":"1","meta":{"versionId":"2","lastUpdated":"2020-01-01T00:00:00Z","profile":["p"]}}`))
	m := v.(map[string]any)
	StripServerMeta(m)
	if _, ok := m["id"]; ok {
		t.Error("id kept")
	}
	meta := m["meta"].(map[string]any)
	if len(meta) != 1 || meta["profile"] == nil {
		t.Errorf("meta after strip: %v", meta)
	}
	v, _ = DecodeJSON([]byte(`{"meta":{"versionId":"2"}}`))
	m = v.(map[string]any)
	StripServerMeta(m)
	if _, ok := m["meta"]; ok {
		t.Error("empty meta kept")
	}
}
