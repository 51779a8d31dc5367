package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/profiles"
)

// TestServePackageIPS: `serve --package hl7.fhir.uv.ips-2.0.0.tgz` makes the IPS
// profiles usable over HTTP: the package's minimal document passes
// $validate?profile=Bundle-uv-ips and its meta.profile claim, the same document as a
// collection fails on Bundle.type; the CapabilityStatement names the AIT guide.
func TestServePackageIPS(t *testing.T) {
	tgz, err := profiles.FetchNPM(context.Background(), profiles.IPSPackage, profiles.IPSVersion)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Start(context.Background(), binary, t.TempDir(), "--package", tgz)
	if err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	defer g.Stop()
	c := g.Client()
	const ips = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"
	var doc bytes.Buffer
	json.Compact(&doc, tgzFile(t, tgz, "Bundle-bundle-minimal.json"))
	hdr := map[string]string{"Content-Type": "application/fhir+json"}
	errorsAt := func(body []byte) map[string]string {
		var oo struct {
			Issue []struct {
				Severity    string
				Expression  []string
				Diagnostics string
			}
		}
		if err := json.Unmarshal(body, &oo); err != nil {
			t.Fatalf("not an OperationOutcome: %s", body)
		}
		out := map[string]string{}
		for _, is := range oo.Issue {
			if is.Severity == "error" || is.Severity == "fatal" {
				out[strings.Join(is.Expression, ",")] = is.Diagnostics
			}
		}
		return out
	}
	r := mustDo(t, c, "POST", "Bundle/$validate?profile="+url.QueryEscape(ips), doc.Bytes(), hdr, 200)
	if errs := errorsAt(r.Body); len(errs) > 0 {
		t.Errorf("IPS minimal document: %v", errs)
	}
	// the claim goes into the document's own meta (a second "meta" key is refused)
	var m map[string]any
	if err := json.Unmarshal(doc.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	meta, _ := m["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		m["meta"] = meta
	}
	meta["profile"] = []any{ips}
	cb, _ := json.Marshal(m)
	claimed := string(cb)
	r = mustDo(t, c, "POST", "Bundle/$validate", []byte(claimed), hdr, 200)
	if errs := errorsAt(r.Body); len(errs) > 0 {
		t.Errorf("IPS document claiming Bundle-uv-ips: %v", errs)
	}
	bad := strings.Replace(claimed, `"type":"document"`, `"type":"collection"`, 1)
	r = mustDo(t, c, "POST", "Bundle/$validate", []byte(bad), hdr, 200)
	found := false
	for expr := range errorsAt(r.Body) {
		if strings.HasPrefix(expr, "Bundle.type") {
			found = true
		}
	}
	if !found {
		t.Errorf("collection instead of document: no error at Bundle.type: %s", r.Body)
	}
	r = mustDo(t, c, "GET", "metadata", nil, nil, 200)
	if !strings.Contains(string(r.Body), `"implementationGuide":["https://fhir.aitgw.org/ig/ait/ImplementationGuide/aitgw.fhir.ait"]`) {
		t.Errorf("CapabilityStatement without the guide's implementationGuide")
	}
}

func tgzFile(t *testing.T, tgz, name string) []byte {
	t.Helper()
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s", name, tgz)
		}
		if path.Base(h.Name) == name {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}
