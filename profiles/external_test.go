package profiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

var ips struct {
	once sync.Once
	v    *Validator
	tgz  string
	err  error
}

// ipsValidator loads the AIT guide and hl7.fhir.uv.ips@2.0.0 (fetched with npm pack).
func ipsValidator(t *testing.T) *Validator {
	t.Helper()
	ips.once.Do(func() {
		ips.tgz, ips.err = FetchNPM(context.Background(), IPSPackage, IPSVersion)
		if ips.err != nil {
			return
		}
		ext, err := LoadNPM(ips.tgz)
		if err != nil {
			ips.err = err
			return
		}
		pkg, err := Load()
		if err != nil {
			ips.err = err
			return
		}
		v, err := NewValidator(pkg)
		if err != nil {
			ips.err = err
			return
		}
		var sk *Skipped
		ips.v, sk, ips.err = v.WithExternal(ext)
		if ips.err == nil && len(sk.Profiles) > 0 {
			ips.err = &skippedError{sk}
		}
	})
	if ips.err != nil {
		t.Fatal(ips.err)
	}
	return ips.v
}

type skippedError struct{ sk *Skipped }

func (e *skippedError) Error() string {
	var b strings.Builder
	for u, why := range e.sk.Profiles {
		b.WriteString(u + ": " + why + "\n")
	}
	return "IPS profiles not compiled:\n" + b.String()
}

func ipsExample(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(ips.tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the IPS package", name)
		}
		if path.Base(h.Name) == name {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
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

const ipsBundle = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"

// TestExternalIPSExamples: every IPS profile compiles, and the guide's own example
// documents pass Bundle-uv-ips.
func TestExternalIPSExamples(t *testing.T) {
	v := ipsValidator(t)
	for _, name := range []string{"Bundle-IPS-examples-Bundle-01.json", "Bundle-bundle-minimal.json", "Bundle-bundle-no-info-required-sections.json"} {
		oo := v.Validate(ipsExample(t, name), ipsBundle)
		if errs := errorsOf(oo); len(errs) > 0 {
			t.Errorf("%s: %d errors: %v", name, len(errs), errs)
		}
	}
}

// TestExternalIPSRejects: documents that break IPS rules are refused.
func TestExternalIPSRejects(t *testing.T) {
	v := ipsValidator(t)
	var compact bytes.Buffer
	json.Compact(&compact, ipsExample(t, "Bundle-bundle-minimal.json"))
	good := compact.String()
	for name, bad := range map[string]string{
		"document type":     strings.Replace(good, `"type":"document"`, `"type":"collection"`, 1),
		"summary code":      strings.Replace(good, `"60591-5"`, `"11488-4"`, 1),
		"no patient entry":  strings.Replace(good, `"resourceType":"Patient"`, `"resourceType":"Basic"`, 1),
		"section text gone": strings.Replace(good, `"text":{"status":"generated"`, `"textx":{"status":"generated"`, 2),
	} {
		if bad == good {
			t.Fatalf("%s: mutation did not apply", name)
		}
		if errs := errorsOf(v.Validate([]byte(bad), ipsBundle)); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}
