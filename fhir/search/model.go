package search

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/aitgw/aitgw/fhir"
	"github.com/gofhir/fhirpath/eval"
)

//go:embed elements.json.gz
var elementsGz []byte

// noChoice is the one "suffix" the model gives for an element known not to be a choice:
// the engine then makes a single failed lookup ("name\x00") instead of trying some
// fifty type suffixes, each a scan of the JSON.
var noChoice = []string{"\x00"}

// elementModel is a minimal eval.Model built from the R4 StructureDefinitions: it
// only knows the top-level elements of each resource and data type and the type
// suffixes of the choice elements. Everything it does not know is left to the
// engine's heuristics (nil / "" answers), and type tests use the engine's own
// heuristic matching, so results equal model-less evaluation (checked by
// TestBranchPruningIsExact) while absent elements become cheap.
type elementModel struct {
	elements map[string]map[string][]string // type → element → choice suffixes ([] if none)
}

var (
	modelOnce sync.Once
	model     *elementModel
)

// theModel returns the shared model, loaded once from the embedded list; nil if the
// embedded data is unreadable (evaluation then runs without a model).
func theModel() eval.Model {
	modelOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(elementsGz))
		if err != nil {
			return
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return
		}
		m := &elementModel{}
		if json.Unmarshal(raw, &m.elements) == nil {
			model = m
		}
	})
	if model == nil {
		return nil
	}
	return model
}

// ChoiceTypes returns the suffixes of a choice element, noChoice for an element
// known not to be one, nil when the path is unknown.
func (m *elementModel) ChoiceTypes(path string) []string {
	typ, name, ok := strings.Cut(path, ".")
	if !ok || strings.Contains(name, ".") {
		return nil
	}
	suffixes, known := m.elements[typ][name]
	switch {
	case !known:
		return nil
	case len(suffixes) == 0:
		return noChoice
	}
	return suffixes
}

// TypeOf is unknown: the engine infers types from the JSON, as without a model.
func (m *elementModel) TypeOf(string) string { return "" }

// ReferenceTargets is unknown.
func (m *elementModel) ReferenceTargets(string) []string { return nil }

// ParentType is unknown.
func (m *elementModel) ParentType(string) string { return "" }

// IsSubtype uses the engine's own heuristic type matching.
func (m *elementModel) IsSubtype(child, parent string) bool {
	return eval.TypeMatches(child, parent)
}

// ResolvePath keeps paths as they are.
func (m *elementModel) ResolvePath(path string) string { return path }

// IsResource reports whether typeName is an R4 resource type (or an abstract base).
func (m *elementModel) IsResource(typeName string) bool {
	return fhir.IsResourceType(typeName) || typeName == "Resource" || typeName == "DomainResource"
}
