package profiles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageStandardTools: the AIT package, as served at /ig/package.tgz, loads in
// fhir-package-loader and fhir-snapshot-generator generates the snapshot of every
// StructureDefinition. Both run offline from a FHIR package cache this test builds:
// the AIT package, and hl7.fhir.r4.core#4.0.1 (not on npm) assembled from the
// conformance resources of hl7.fhir.r4.examples@4.0.1 (which ships the core
// StructureDefinitions, ValueSets and CodeSystems), and hl7.terminology.r4#7.0.1
// and hl7.fhir.uv.extensions.r4 (from npm), which the explorer adds to every R4
// context. The tools are installed with npm
// into $AITGW_CACHE; without npm the test fails.
func TestPackageStandardTools(t *testing.T) {
	if testing.Short() {
		t.Skip("needs npm: not run with -short")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm is not installed: the standard package tools cannot run (apt-get install npm)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	cache := os.Getenv("AITGW_CACHE")
	if cache == "" {
		cache = filepath.Join(os.TempDir(), "aitgw-cache")
	}
	tools := filepath.Join(cache, "npmtools")
	if _, err := os.Stat(filepath.Join(tools, "node_modules", "fhir-snapshot-generator", "package.json")); err != nil {
		npmRun(t, tools, npm, "install", "--no-audit", "--no-fund", "--prefix", tools,
			"fhir-snapshot-generator@2.2.2", "fhir-package-loader@2.2.4")
	}
	p := testValidator(t).Package()
	home := t.TempDir()
	packages := filepath.Join(home, ".fhir", "packages")
	// the AIT package, from its tarball
	tgz, err := p.Tarball()
	if err != nil {
		t.Fatal(err)
	}
	untarAll(t, tgz, filepath.Join(packages, p.Name+"#"+p.Version))
	// hl7.fhir.r4.core#4.0.1 from the examples package's conformance resources
	examples := officialExamplesDir(t)
	core := filepath.Join(packages, "hl7.fhir.r4.core#4.0.1", "package")
	if err := os.MkdirAll(core, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"StructureDefinition-", "ValueSet-", "CodeSystem-"} {
		files, _ := filepath.Glob(filepath.Join(examples, prefix+"*.json"))
		for _, f := range files {
			if err := os.Symlink(f, filepath.Join(core, filepath.Base(f))); err != nil {
				t.Fatal(err)
			}
		}
	}
	manifest := `{"name":"hl7.fhir.r4.core","version":"4.0.1","type":"Core","fhirVersions":["4.0.1"],"dependencies":{}}`
	if err := os.WriteFile(filepath.Join(core, "package.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	// fhir-package-explorer adds the implicit R4 terminology package: from npm
	// and R4 extensions packages; on npm, the latter only as 5.3.0-ballot-tc1, which
	// stands in for it (the AIT package uses none of its extensions)
	for _, dep := range [][2]string{{"hl7.terminology.r4", "7.0.1"}, {"hl7.fhir.uv.extensions.r4", "5.3.0-ballot-tc1"}} {
		f, err := FetchNPM(context.Background(), dep[0], dep[1])
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(packages, dep[0]+"#"+dep[1])
		untarAll(t, b, dir)
		// their own dependencies (terminology 6.5.0, extensions 5.2.0) are on
		// packages.fhir.org only: this offline context keeps the core dependency
		pj := filepath.Join(dir, "package", "package.json")
		var m map[string]any
		raw, _ := os.ReadFile(pj)
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		m["dependencies"] = map[string]string{"hl7.fhir.r4.core": "4.0.1"}
		raw, _ = json.Marshal(m)
		if err := os.WriteFile(pj, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, "--input-type=module", "-e", mustRead(t, "testdata/package-tools.mjs"))
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "HOME="+home, "AIT_NAME="+p.Name, "AIT_VERSION="+p.Version)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("package tools: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res struct {
		Error     string
		Loaded    int
		Snapshots map[string]int
		Failures  map[string]string
		Errors    []string
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("package tools output: %v\n%s\n%s", err, out.String(), stderr.String())
	}
	if res.Error != "" {
		t.Fatalf("%s %v", res.Error, res.Errors)
	}
	want := 0
	for _, r := range p.Resources() {
		if r.Type == "StructureDefinition" && !r.Example {
			want++
		}
	}
	if res.Loaded != want {
		t.Errorf("fhir-package-loader found %d StructureDefinitions, the package has %d", res.Loaded, want)
	}
	for url, why := range res.Failures {
		t.Errorf("fhir-snapshot-generator: %s: %s", url, why)
	}
	for url, n := range res.Snapshots {
		if n == 0 {
			t.Errorf("fhir-snapshot-generator: %s: empty snapshot", url)
		}
	}
	t.Logf("fhir-package-loader loaded %d StructureDefinitions; %d snapshots generated; loader errors: %v", res.Loaded, len(res.Snapshots), res.Errors)
}

// untarAll extracts a .tgz under dest.
func untarAll(t *testing.T, tgz []byte, dest string) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dest, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
