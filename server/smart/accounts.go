package smart

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// operatorGrant verifies the Bearer token of an operator endpoint and that it holds
// scope; it answers the refusal itself and returns false.
func (s *AuthServer) operatorGrant(c *gin.Context, scope, what string) bool {
	raw, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		oauthError(c, http.StatusUnauthorized, "invalid_token", what+" needs an operator token with scope "+scope)
		return false
	}
	g, err := s.verifier.Verify(c.Request.Context(), raw)
	if err != nil || !g.HasScope(scope) {
		oauthError(c, http.StatusForbidden, "insufficient_scope", what+" needs scope "+scope)
		return false
	}
	return true
}

// listUsers is GET /auth/users: the accounts, never their hashes.
func (s *AuthServer) listUsers(c *gin.Context) {
	if !s.operatorGrant(c, ScopeUsers, "listing users") {
		return
	}
	users, err := ListUsers(c.Request.Context(), s.kv)
	if err != nil {
		oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the account store did not answer")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"users": users})
}

// removeUser is DELETE /auth/users/:name.
func (s *AuthServer) removeUser(c *gin.Context) {
	if !s.operatorGrant(c, ScopeUsers, "removing users") {
		return
	}
	found, err := RemoveUser(c.Request.Context(), s.kv, c.Param("name"))
	switch {
	case err != nil:
		oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the account store did not answer")
	case !found:
		oauthError(c, http.StatusNotFound, "invalid_request", "no such user")
	default:
		c.Status(http.StatusNoContent)
	}
}

// listClients is GET /auth/register: the registered clients, never their secrets.
func (s *AuthServer) listClients(c *gin.Context) {
	if !s.operatorGrant(c, ScopeRegister, "listing clients") {
		return
	}
	clients, err := ListClients(c.Request.Context(), s.kv)
	if err != nil {
		oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the client registry did not answer")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"clients": clients})
}

// removeClient is DELETE /auth/register/:id.
func (s *AuthServer) removeClient(c *gin.Context) {
	if !s.operatorGrant(c, ScopeRegister, "removing clients") {
		return
	}
	found, err := RemoveClient(c.Request.Context(), s.kv, c.Param("id"))
	switch {
	case err != nil:
		oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the client registry did not answer")
	case !found:
		oauthError(c, http.StatusNotFound, "invalid_request", "no such client")
	default:
		c.Status(http.StatusNoContent)
	}
}
