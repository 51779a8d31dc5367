package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
)

// The interaction handlers: each turns the routed request into one call of fhir/rest
// and replies. What an interaction means lives in fhir/rest, one file each.

func (s *Server) read(c *gin.Context) {
	resp, err := s.svc.Read(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) vread(c *gin.Context) {
	resp, err := s.svc.VRead(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) create(c *gin.Context) {
	resp, err := s.svc.Create(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) update(c *gin.Context) {
	resp, err := s.svc.Update(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) patch(c *gin.Context) {
	resp, err := s.svc.Patch(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) delete(c *gin.Context) {
	resp, err := s.svc.Delete(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) search(c *gin.Context) {
	resp, err := s.svc.Search(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) page(c *gin.Context) {
	resp, err := s.svc.Page(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

func (s *Server) searchSystem(c *gin.Context) {
	s.fail(c, fhir.Errorf(http.StatusBadRequest, "not-supported", "", "search across all types is not supported: search one type, e.g. GET /fhir/Patient?…"))
}

func (s *Server) history(c *gin.Context) {
	resp, err := s.svc.History(c.Request.Context(), currentRequest(c))
	s.reply(c, resp, err)
}

// bundle handles POST [base]: a batch or transaction Bundle.
func (s *Server) bundle(c *gin.Context) {
	if resp, ok, err := s.handledBundle(c.Request.Context(), currentRequest(c), preference(c.Request, "return")); ok {
		s.reply(c, resp, err)
		return
	}
	resp, err := s.svc.Bundle(c.Request.Context(), currentRequest(c), preference(c.Request, "return"))
	s.reply(c, resp, err)
}
