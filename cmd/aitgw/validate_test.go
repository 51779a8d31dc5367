package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/profiles"
)

// `aitgw validate --package ips.tgz` checks a document against IPS: the package's
// minimal example passes Bundle-uv-ips, the same document as a collection fails.
func TestValidateCommandPackage(t *testing.T) {
	tgz, err := profiles.FetchNPM(context.Background(), profiles.IPSPackage, profiles.IPSVersion)
	if err != nil {
		t.Fatalf("fetching IPS with npm: %v", err)
	}
	example := fileInTgz(t, tgz, "Bundle-bundle-minimal.json")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, example, 0o644)
	broken := strings.Replace(string(example), `"type" : "document"`, `"type" : "collection"`, 1)
	if broken == string(example) {
		broken = strings.Replace(string(example), `"type":"document"`, `"type":"collection"`, 1)
	}
	if broken == string(example) {
		t.Fatal("mutation did not apply")
	}
	os.WriteFile(bad, []byte(broken), 0o644)
	const ips = "http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips"
	if code := validateCmd([]string{"--package", tgz, "--profile", ips, good}); code != 0 {
		t.Errorf("IPS example: exit %d, want 0", code)
	}
	if code := validateCmd([]string{"--package", tgz, "--profile", ips, bad}); code != 1 {
		t.Errorf("collection instead of document: exit %d, want 1", code)
	}
	if code := validateCmd([]string{"--profile", ips, good}); code != 1 {
		t.Errorf("without --package the IPS profile is unknown: exit %d, want 1", code)
	}
}

func fileInTgz(t *testing.T, tgz, name string) []byte {
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
