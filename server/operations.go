package server

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Operation is a FHIR operation ($name) the server exposes.
type Operation struct {
	// Name without the $.
	Name string
	// Types it applies to; empty means system level.
	Types []string
	// Instance and Type tell at which levels it is invoked.
	Instance, Type, System bool
	// Definition is the canonical URL of its OperationDefinition.
	Definition string
	// Write marks operations that change data (for authorization).
	Write bool
	// Run carries it out. req holds Type, ID, Query and Body.
	Run func(ctx context.Context, req *rest.Request) (*rest.Response, error)
	// Serve, when set, answers the HTTP exchange itself instead of Run: for operations
	// whose answer is not one FHIR body (the asynchronous kick-off of $export: 202 and
	// Content-Location). It is called after routing and authorization.
	Serve func(w http.ResponseWriter, r *http.Request, req *rest.Request)
}

// Operations is the registry of operations, consulted by routing and by the
// CapabilityStatement.
type Operations struct {
	byName map[string][]*Operation
}

// NewOperations returns an empty registry.
func NewOperations() *Operations { return &Operations{byName: map[string][]*Operation{}} }

// Add registers op.
func (o *Operations) Add(op *Operation) { o.byName[op.Name] = append(o.byName[op.Name], op) }

// All lists the operations, by name.
func (o *Operations) All() []*Operation {
	var out []*Operation
	for _, ops := range o.byName {
		out = append(out, ops...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Find returns the operation for name at the level and type of req.
func (o *Operations) Find(name string, req *rest.Request) *Operation {
	for _, op := range o.byName[name] {
		switch {
		case req.Type == "" && op.System:
			return op
		case req.Type != "" && req.ID == "" && op.Type && op.appliesTo(req.Type):
			return op
		case req.ID != "" && op.Instance && op.appliesTo(req.Type):
			return op
		}
	}
	return nil
}

// unsupported explains why no operation answered: an unknown name, or a known one
// invoked at a level or on a type where it is not defined (naming where it is).
func (o *Operations) unsupported(name string, req *rest.Request) *fhir.Error {
	ops := o.byName[name]
	if len(ops) == 0 {
		return fhir.Errorf(http.StatusNotFound, "not-supported", "", "unknown operation $%s: the CapabilityStatement (GET /metadata) lists the operations this server supports", name)
	}
	var where []string
	for _, op := range ops {
		types := strings.Join(op.Types, "|")
		if op.System {
			where = append(where, "[base]/$"+name)
		}
		if op.Type {
			where = append(where, "[base]/"+types+"/$"+name)
		}
		if op.Instance {
			where = append(where, "[base]/"+types+"/[id]/$"+name)
		}
	}
	return fhir.Errorf(http.StatusNotFound, "not-supported", "", "operation $%s is not defined here; it is invoked as %s", name, strings.Join(where, ", "))
}

func (op *Operation) appliesTo(typ string) bool {
	if len(op.Types) == 0 {
		return true
	}
	for _, t := range op.Types {
		if t == typ || t == "Resource" {
			return true
		}
	}
	return false
}

// OperationFrom returns the operation a request was routed to, or nil.
func (s *Server) OperationFrom(c *gin.Context) *Operation {
	return s.ops.Find(c.GetString(ctxOperation)[1:], currentRequest(c))
}

func (s *Server) operation(c *gin.Context) {
	name := c.GetString(ctxOperation)
	req := currentRequest(c)
	op := s.ops.Find(name[1:], req)
	if op == nil {
		s.fail(c, s.ops.unsupported(name[1:], req))
		return
	}
	if op.Serve != nil {
		op.Serve(c.Writer, c.Request, req)
		return
	}
	if !op.Write && c.Request.Method != http.MethodGet && c.Request.Method != http.MethodPost {
		s.fail(c, fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", "", "operation %s takes GET or POST", name))
		return
	}
	resp, err := op.Run(c.Request.Context(), req)
	s.reply(c, resp, err)
}
