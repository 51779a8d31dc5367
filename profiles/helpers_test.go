package profiles

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
)

var (
	testOnce sync.Once
	testPkg  *Package
	testVal  *Validator
	testErr  error
)

// testValidator loads the package and compiles the validator once for all tests.
func testValidator(t testing.TB) *Validator {
	t.Helper()
	testOnce.Do(func() {
		testPkg, testErr = Load()
		if testErr == nil {
			testVal, testErr = NewValidator(testPkg)
		}
	})
	if testErr != nil {
		t.Fatal(testErr)
	}
	return testVal
}

// exampleResolver resolves Type/id references to the package's examples, standing in
// for the server's store.
func exampleResolver(p *Package) Resolver {
	byRef := map[string][]byte{}
	for _, r := range p.Examples() {
		// The store holds compacted JSON (fhir.ParseResource): serve the same.
		var buf bytes.Buffer
		if err := json.Compact(&buf, r.Body); err != nil {
			panic(err)
		}
		byRef[r.Type+"/"+r.ID] = buf.Bytes()
	}
	return ResolverFunc(func(_ context.Context, ref string) ([]byte, error) { return byRef[ref], nil })
}
