package profiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestPackageContents(t *testing.T) {
	p := testValidator(t).Package()
	if p.Canonical == "" || p.Name == "" || p.Version == "" {
		t.Fatalf("manifest: %+v", p)
	}
	count := map[string]int{}
	for _, r := range p.Resources() {
		if r.Example {
			count["example"]++
			continue
		}
		count[r.Type]++
		if !strings.HasPrefix(r.URL, p.Canonical+"/"+r.Type+"/") {
			t.Errorf("%s/%s: url %s not under %s", r.Type, r.ID, r.URL, p.Canonical)
		}
		var v struct{ FhirVersion string }
		if json.Unmarshal(r.Body, &v) == nil && r.Type == "StructureDefinition" && v.FhirVersion != "4.0.1" {
			t.Errorf("%s: fhirVersion %q", r.ID, v.FhirVersion)
		}
	}
	for _, typ := range []string{"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "example"} {
		if count[typ] == 0 {
			t.Errorf("no %s in the package", typ)
		}
	}
	if got := len(p.SearchParameters()); got != count["SearchParameter"] {
		t.Errorf("SearchParameters() = %d, want %d", got, count["SearchParameter"])
	}
	if r, ok := p.ByURL(p.Canonical + "/StructureDefinition/ait-referral|0.1.0"); !ok || r.ID != "ait-referral" {
		t.Errorf("ByURL: %v %v", r.ID, ok)
	}
}

// The .tgz is a FHIR NPM package: package/package.json, the resources and
// package/.index.json listing each conformance resource.
func TestTarball(t *testing.T) {
	p := testValidator(t).Package()
	tgz, err := p.Tarball()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.Tarball()
	if !bytes.Equal(tgz, again) {
		t.Error("tarball is not reproducible")
	}
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	var manifest struct{ Name, Version, Canonical string }
	if err := json.Unmarshal(files["package/package.json"], &manifest); err != nil || manifest.Name != p.Name || manifest.Canonical != p.Canonical {
		t.Fatalf("package.json: %v %+v", err, manifest)
	}
	var index struct {
		IndexVersion int `json:"index-version"`
		Files        []struct{ Filename, ResourceType, ID, URL, Kind, Type, Derivation string }
	}
	if err := json.Unmarshal(files["package/.index.json"], &index); err != nil || index.IndexVersion != 2 {
		t.Fatalf(".index.json: %v", err)
	}
	conformance := 0
	for _, r := range p.Resources() {
		if !r.Example {
			conformance++
		}
	}
	if len(index.Files) != conformance {
		t.Errorf("index lists %d files, package has %d conformance resources", len(index.Files), conformance)
	}
	ig := false
	for _, f := range index.Files {
		if f.ResourceType == "StructureDefinition" && (f.Kind == "" || f.Type == "" || f.Derivation == "") {
			t.Errorf("%s: index v2 needs kind, type and derivation: %+v", f.Filename, f)
		}
		if f.ResourceType == "ImplementationGuide" && f.URL == p.ImplementationGuideURL() {
			ig = true
		}
		body, ok := files["package/"+f.Filename]
		if !ok {
			t.Errorf("index names missing file %s", f.Filename)
			continue
		}
		var head struct{ ResourceType, ID, URL string }
		if json.Unmarshal(body, &head) != nil || head.ResourceType != f.ResourceType || head.ID != f.ID || head.URL != f.URL {
			t.Errorf("%s: index says %s/%s %s, file says %+v", f.Filename, f.ResourceType, f.ID, f.URL, head)
		}
	}
	if !ig {
		t.Errorf("no ImplementationGuide %s in the index", p.ImplementationGuideURL())
	}
	var m struct {
		URL, Jurisdiction string
		Dependencies      map[string]string
	}
	if json.Unmarshal(files["package/package.json"], &m) != nil || m.URL != p.Canonical || m.Jurisdiction != "urn:iso:std:iso:3166#FR" || m.Dependencies["hl7.fhir.r4.core"] != "4.0.1" {
		t.Errorf("package.json: url, jurisdiction FR and the hl7.fhir.r4.core dependency expected: %+v", m)
	}
}
