package server

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/conformance"
	"github.com/aitgw/aitgw/fhir"
)

// Capabilities says what the server declares beyond its routes.
type Capabilities struct {
	Software, Version string
	Types             []string
	SearchParams      func(typ string) []conformance.SearchParam
	Profiles          map[string][]string
	Security          []byte
	// ResourceExtensions are extensions of a type's entry (Subscription topics).
	ResourceExtensions map[string]json.RawMessage
	// RecordedOnly are the types the server writes itself (AuditEvent): read only.
	RecordedOnly map[string]bool
}

// SetCapabilities sets what /metadata declares beyond the routes and operations.
func (s *Server) SetCapabilities(c Capabilities) {
	s.capMu.Lock()
	defer s.capMu.Unlock()
	s.caps = c
	s.capJSON = nil
}

// metadata answers GET /fhir/metadata with a CapabilityStatement generated from the
// registered interactions, search parameters and operations.
func (s *Server) metadata(c *gin.Context) {
	s.capMu.Lock()
	if s.capJSON == nil {
		s.capJSON = s.capabilityStatement()
	}
	body := s.capJSON
	s.capMu.Unlock()
	s.write(c, http.StatusOK, body)
}

func (s *Server) capabilityStatement() []byte {
	types := s.caps.Types
	if len(types) == 0 {
		types = fhir.ResourceTypes()
	}
	inter := s.Interactions()
	sort.Strings(inter)
	cs := conformance.Server{
		BaseURL: s.base(), Software: s.caps.Software, Version: s.caps.Version,
		Types: types, Interactions: inter, SearchParams: s.caps.SearchParams,
		Profiles: s.caps.Profiles, Security: s.caps.Security, ResourceExtensions: s.caps.ResourceExtensions,
		RecordedOnly: s.caps.RecordedOnly,
	}
	for _, op := range s.ops.All() {
		cs.Operations = append(cs.Operations, conformance.Operation{Name: op.Name, Definition: op.Definition, Types: op.Types, System: op.System})
	}
	return cs.CapabilityStatement()
}
