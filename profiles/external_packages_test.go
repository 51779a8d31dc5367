package profiles

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// TestWithPackagesIPS: hl7.fhir.uv.ips@2.0.0 loaded as a package (profiles,
// ValueSets, CodeSystems): its example documents validate against Bundle-uv-ips, by
// $validate's profile and by their meta.profile claim, and mutated ones fail on the
// element the mutation broke.
func TestWithPackagesIPS(t *testing.T) {
	ipsValidator(t) // fetches the package (ips.tgz), for ipsExample too
	tgz, err := FetchNPM(context.Background(), IPSPackage, IPSVersion)
	if err != nil {
		t.Fatalf("fetching %s@%s with npm: %v", IPSPackage, IPSVersion, err)
	}
	v, skipped, err := testValidator(t).WithPackages(tgz)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("not checked: %d profiles, %d bindings, %d data type profiles", len(skipped.Profiles), len(skipped.Bindings), len(skipped.DataTypes))
	for _, name := range []string{"Bundle-IPS-examples-Bundle-01.json", "Bundle-bundle-minimal.json"} {
		body := ipsExample(t, name)
		if errs := errorsOf(v.Validate(body, ipsBundle)); len(errs) > 0 {
			t.Errorf("%s: %d errors: %v", name, len(errs), errs)
		}
	}
	var compact bytes.Buffer
	json.Compact(&compact, ipsExample(t, "Bundle-bundle-minimal.json"))
	good := compact.String()
	// the claim goes into the example's own meta (a second "meta" key is refused)
	var doc map[string]any
	if err := json.Unmarshal([]byte(good), &doc); err != nil {
		t.Fatal(err)
	}
	meta, _ := doc["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		doc["meta"] = meta
	}
	meta["profile"] = []any{ipsBundle}
	b, _ := json.Marshal(doc)
	claimed := string(b)
	if errs := errorsOf(v.Validate([]byte(claimed))); len(errs) > 0 {
		t.Errorf("claiming %s: %v", ipsBundle, errs)
	}
	for name, c := range map[string]struct{ from, to, element string }{
		"document type": {`"type":"document"`, `"type":"collection"`, "Bundle.type"},
		"summary code":  {`"60591-5"`, `"11488-4"`, "Bundle.entry[0].resource.type"},
	} {
		bad := strings.Replace(claimed, c.from, c.to, 1)
		if bad == claimed {
			t.Fatalf("%s: mutation did not apply", name)
		}
		oo := v.Validate([]byte(bad))
		found := false
		for _, is := range oo.Issue {
			if (is.Severity == fhir.SeverityError) && len(is.Expression) > 0 && strings.HasPrefix(is.Expression[0], c.element) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no error at %s:\n%s", name, c.element, dump(oo))
		}
	}
}
