// Package resttest builds a real interaction service for tests: the embedded store
// in a temporary directory and the official search parameters, as the gateway wires
// them.
package resttest

import (
	"path/filepath"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/search"
)

// Base is the FHIR base URL of test services.
const Base = "http://gw.test/fhir"

// Service returns a service on a fresh bolt store, closed when the test ends, with
// the given page size.
func Service(tb testing.TB, pageSize int) *rest.Service {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "aitgw.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return On(tb, st, pageSize)
}

// On returns a service on store, with the given page size.
func On(tb testing.TB, store fhir.Store, pageSize int) *rest.Service {
	tb.Helper()
	reg, err := search.NewRegistry()
	if err != nil {
		tb.Fatal(err)
	}
	reg.SetBase(Base)
	return &rest.Service{Store: store, Engine: search.NewEngine(reg), BaseURL: Base, PageSize: pageSize}
}
