package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Example is one official R4 example file.
type Example struct {
	// Type is its resourceType, ID its id ("" when it has none).
	Type, ID string
	// File is the file name in the package, e.g. Patient-example.json.
	File string
	// Body is the file content as published.
	Body []byte
}

// ExamplesDir runs testdata/fetch-examples.sh (idempotent: it fetches
// hl7.fhir.r4.examples@4.0.1 with npm only when the cache lacks it) and returns the
// directory holding the unpacked examples.
func ExamplesDir(ctx context.Context) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(root, "testdata", "fetch-examples.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("testdata/fetch-examples.sh: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("testdata/fetch-examples.sh printed %q, not a directory", dir)
	}
	return dir, nil
}

// LoadExamples returns every example in dir whose resourceType is one of types,
// sorted by file name. Files are matched by their "Type-" prefix and confirmed by
// the resourceType inside them.
func LoadExamples(dir string, types []string) ([]Example, error) {
	want := map[string]bool{}
	for _, t := range types {
		want[t] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Example
	for _, e := range entries {
		name := e.Name()
		typ, _, ok := strings.Cut(name, "-")
		if !ok || !want[typ] || !strings.HasSuffix(name, ".json") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if err := json.Unmarshal(body, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if head.ResourceType != typ {
			continue
		}
		out = append(out, Example{Type: typ, ID: head.ID, File: name, Body: body})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}
