package search

import (
	"bytes"
	"encoding/json"
	"testing"
)

// keysOf returns the index keys of param for body.
func keysOf(t *testing.T, r *Registry, typ, param, body string) [][]byte {
	t.Helper()
	entries, err := r.Index(typ, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		if e.Param == param {
			out = append(out, e.Key)
		}
	}
	return out
}

func hasKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}

func TestIndexForms(t *testing.T) {
	r := newTestRegistry(t)
	p := `{"resourceType":"Patient","id":"x","gender":"female","birthDate":"2020",
	  "identifier":[{"system":"urn:ipp","value":"42"}],"name":[{"family":"Hélène","given":["Zoé"]}],
	  "generalPractitioner":[{"reference":"Practitioner/dr1"},{"reference":"http://other.org/fhir/Practitioner/9"}]}`
	checks := []struct {
		param string
		key   []byte
	}{
		{"identifier", key(tagCode, "42")},
		{"identifier", key(tagSysCode, "urn:ipp", "42")},
		{"gender", key(tagCode, "female")},
		{"gender", key(tagNoSys, "female")},
		{"family", key(tagPrefix, "helene")},
		{"family", key(tagExact, "Hélène")},
		{"given", key(tagPrefix, "zoe")},
		{"general-practitioner", key(tagRef, "Practitioner/dr1")},
		{"general-practitioner", key(tagRefID, "dr1")},
		{"general-practitioner", key(tagRef, "http://other.org/fhir/Practitioner/9")},
		{"_id", key(tagCode, "x")},
	}
	for _, c := range checks {
		if keys := keysOf(t, r, "Patient", c.param, p); !hasKey(keys, c.key) {
			t.Errorf("%s: key %q missing from %q", c.param, c.key, keys)
		}
	}
	// 2020 is the interval 2020-01-01T00:00:00.000 .. 2020-12-31T23:59:59.999 (UTC).
	lo, hi, _ := parseFHIRTime("2020-01-01T00:00:00.000Z")
	_, hi2, _ := parseFHIRTime("2020-12-31T23:59:59.999Z")
	if lo != hi || hi2 == lo {
		t.Fatalf("millisecond precision: %d %d %d", lo, hi, hi2)
	}
	want := intervalKeys(lo, hi2)
	keys := keysOf(t, r, "Patient", "birthdate", p)
	if len(keys) != 2 || !hasKey(keys, want[0]) || !hasKey(keys, want[1]) {
		t.Errorf("birthdate keys %x, want %x", keys, want)
	}
}

func TestKeyOrderIsSearchOrder(t *testing.T) {
	nums := []float64{-1e9, -2.5, -0.001, 0, 0.001, 3, 3.5, 120, 1e12}
	for i := 1; i < len(nums); i++ {
		a, b := appendFloat(nil, nums[i-1]), appendFloat(nil, nums[i])
		if bytes.Compare(a, b) >= 0 || decodeFloat(b) != nums[i] {
			t.Errorf("float order broken between %v and %v", nums[i-1], nums[i])
		}
	}
	dates := []string{"1899-12-31", "1950", "1950-03-12", "1950-03-12T10:00:00+01:00", "2024-03-10T10:00:00.123Z"}
	prev := int64(minInstant)
	for _, d := range dates {
		lo, _, ok := parseFHIRTime(d)
		if !ok || lo < prev {
			t.Errorf("%s: ok %v, low %d before previous %d", d, ok, lo, prev)
		}
		prev = lo
		if decodeInstant(appendInstant(nil, lo)) != lo {
			t.Errorf("%s: instant round trip", d)
		}
	}
	for _, bad := range []string{"20-20", "2020-13", "2020-02-30", "2020-01-01T25:00:00Z", "yesterday"} {
		if _, _, ok := parseFHIRTime(bad); ok {
			t.Errorf("%q parsed as a date", bad)
		}
	}
}

func TestAddSearchParameter(t *testing.T) {
	r := newTestRegistry(t)
	sp := `{"resourceType":"SearchParameter","url":"https://aitgw.example/SearchParameter/pump-reservoir",
	  "code":"pump-reservoir","base":["Device"],"type":"token",
	  "expression":"Device.extension.where(url='https://aitgw.example/reservoir').value"}`
	if err := r.Add([]byte(sp)); err != nil {
		t.Fatal(err)
	}
	if p := r.Lookup("Device", "pump-reservoir"); p == nil || p.Type != "token" {
		t.Fatalf("added parameter not found: %+v", p)
	}
	dev := `{"resourceType":"Device","id":"d","extension":[{"url":"https://aitgw.example/reservoir","valueCode":"R20"}]}`
	if keys := keysOf(t, r, "Device", "pump-reservoir", dev); !hasKey(keys, key(tagCode, "R20")) {
		t.Errorf("added parameter not indexed: %q", keys)
	}
	for _, bad := range []string{`{"resourceType":"Patient"}`, `{"resourceType":"SearchParameter","code":"x","base":["Device"],"type":"token","expression":"Device.(("}`,
		`{"resourceType":"SearchParameter","code":"x","base":["Device"],"type":"nonsense"}`} {
		if err := r.Add([]byte(bad)); err == nil {
			t.Errorf("Add(%s) accepted", bad)
		}
	}
}

func TestResolveIsType(t *testing.T) {
	r := newTestRegistry(t)
	// Observation.patient is "Observation.subject.where(resolve() is Patient)".
	obs := `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p9"}}`
	if keys := keysOf(t, r, "Observation", "patient", obs); !hasKey(keys, key(tagRef, "Patient/p9")) {
		t.Errorf("patient not indexed through resolve(): %q", keys)
	}
	grp := `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Group/g1"}}`
	if keys := keysOf(t, r, "Observation", "patient", grp); len(keys) != 0 {
		t.Errorf("a Group subject was indexed as patient: %q", keys)
	}
}

func TestElementsAndSummary(t *testing.T) {
	body := []byte(`{"resourceType":"Patient","id":"p","meta":{"versionId":"1","tag":[{"code":"x"}]},` +
		`"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">P</div>"},` +
		`"active":true,"name":[{"family":"Dupont"}],"birthDate":"1950","_birthDate":{"extension":[]},` +
		`"deceasedBoolean":false,"photo":[{"contentType":"image/png"}]}`)
	decode := func(b []byte) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("invalid JSON %s: %v", b, err)
		}
		return m
	}
	keysOfObj := func(m map[string]json.RawMessage) map[string]bool {
		out := map[string]bool{}
		for k := range m {
			out[k] = true
		}
		return out
	}
	e := decode(Elements(body, []string{"birthDate", "deceased"}))
	if got := keysOfObj(e); len(got) != 6 || !got["birthDate"] || !got["_birthDate"] || !got["deceasedBoolean"] || !got["meta"] || got["name"] {
		t.Errorf("_elements kept %v", got)
	}
	if !bytes.Contains(e["meta"], []byte("SUBSETTED")) || !bytes.Contains(e["meta"], []byte(`"code":"x"`)) {
		t.Errorf("meta not tagged SUBSETTED with its tags kept: %s", e["meta"])
	}
	s := keysOfObj(decode(Summary(body, "true")))
	if !s["name"] || !s["birthDate"] || !s["active"] || s["photo"] || s["text"] {
		t.Errorf("_summary=true kept %v (photo and text are not summary elements of Patient)", s)
	}
	if d := keysOfObj(decode(Summary(body, "data"))); d["text"] || !d["photo"] {
		t.Errorf("_summary=data kept %v", d)
	}
	if x := keysOfObj(decode(Summary(body, "text"))); !x["text"] || x["name"] {
		t.Errorf("_summary=text kept %v", x)
	}
	if !bytes.Equal(Summary(body, "false"), body) {
		t.Error("_summary=false changed the body")
	}
}
