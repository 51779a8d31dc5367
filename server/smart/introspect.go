package smart

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// ScopeIntrospect, registered for a client, lets it introspect tokens issued to other
// clients (a resource server); without it a client introspects only its own tokens.
const ScopeIntrospect = "aitgw/introspect"

// introspect is RFC 7662 token introspection. The caller authenticates as a
// confidential client. Any token that is not a live token of this server (malformed,
// forged, expired, revoked, another client's without ScopeIntrospect) is
// {"active": false}, with nothing said of why.
func (s *AuthServer) introspect(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return
	}
	f := c.Request.PostForm
	callerID, mayAll, oe := s.introspectionCaller(c, f)
	if oe != nil {
		oauthError(c, oe.status, oe.code, oe.desc)
		return
	}
	tok := f.Get("token")
	if tok == "" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	cl := &Client{ID: callerID}
	resp := gin.H{"active": false}
	if f.Get("token_type_hint") != "refresh_token" || strings.Count(tok, ".") == 2 {
		if g, err := s.verifier.Verify(c.Request.Context(), tok); err == nil && (mayAll || g.ClientID == cl.ID) {
			resp = introspection(g, s.cfg.BaseURL)
		}
	}
	if resp["active"] == false && strings.Count(tok, ".") != 2 {
		if rr := s.liveRefresh(c, tok); rr != nil && (mayAll || rr.ClientID == cl.ID) {
			resp = gin.H{"active": true, "token_type": "refresh_token", "scope": rr.Scope,
				"client_id": rr.ClientID, "exp": rr.Expires.Unix(), "iss": s.cfg.Issuer}
			if rr.Patient != "" {
				resp["patient"] = rr.Patient
			}
			if rr.FHIRUser != "" {
				resp["sub"], resp["fhirUser"] = rr.FHIRUser, rr.FHIRUser
			}
		}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, resp)
}

// introspectionCaller authenticates who asks: a confidential client (which may
// introspect any token when registered with ScopeIntrospect), or a resource server
// presenting a Bearer access token granted ScopeIntrospect (e.g. "aitgw token --scope
// aitgw/introspect").
func (s *AuthServer) introspectionCaller(c *gin.Context, f url.Values) (id string, mayAll bool, oe *oauthErr) {
	if raw, ok := bearer(c.GetHeader("Authorization")); ok {
		g, err := s.verifier.Verify(c.Request.Context(), raw)
		if err != nil || !g.HasScope(ScopeIntrospect) {
			return "", false, &oauthErr{http.StatusUnauthorized, "invalid_token", "introspection with a Bearer token needs scope " + ScopeIntrospect}
		}
		return g.ClientID, true, nil
	}
	cl, oe := s.authenticateClient(c, f)
	if oe == nil && cl.Type == ClientPublic {
		oe = badClient("introspection needs client authentication (private_key_jwt or client_secret_basic)")
	}
	if oe != nil {
		return "", false, oe
	}
	return cl.ID, slices.Contains(strings.Fields(cl.Scope), ScopeIntrospect), nil
}

// introspection is the RFC 7662 answer for an active access token.
func introspection(g *Grant, aud string) gin.H {
	r := gin.H{"active": true, "token_type": "Bearer", "scope": g.ScopeString(), "client_id": g.ClientID,
		"exp": g.Expiry.Unix(), "sub": g.Subject, "aud": aud, "iss": g.Issuer}
	if !g.IssuedAt.IsZero() {
		r["iat"] = g.IssuedAt.Unix()
	}
	if g.TokenID != "" {
		r["jti"] = g.TokenID
	}
	if g.Patient != "" {
		r["patient"] = g.Patient
	}
	if g.Encounter != "" {
		r["encounter"] = g.Encounter
	}
	if g.FHIRUser != "" {
		r["fhirUser"] = g.FHIRUser
	}
	return r
}

// liveRefresh returns the record of a refresh token still usable, else nil.
func (s *AuthServer) liveRefresh(c *gin.Context, tok string) *refreshRecord {
	b, err := s.kv.Get(c.Request.Context(), nsRefresh, hashToken(tok))
	var rr refreshRecord
	if err != nil || b == nil || json.Unmarshal(b, &rr) != nil || s.now().After(rr.Expires) {
		return nil
	}
	if rr.Family != "" {
		if f, err := s.getFamily(c.Request.Context(), rr.Family); err != nil || f != nil && f.Revoked {
			return nil
		}
	}
	return &rr
}

// revoke is RFC 7009 token revocation. A client revokes its own tokens: a refresh
// token (with its whole family: the access tokens minted from it die too) or an
// access token (refused by the verifier from then on, until its exp). The answer is
// 200 whatever the token was (§2.2: an invalid token is no error).
func (s *AuthServer) revoke(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return
	}
	f := c.Request.PostForm
	cl, oe := s.authenticateClient(c, f)
	if oe != nil {
		oauthError(c, oe.status, oe.code, oe.desc)
		return
	}
	tok := f.Get("token")
	if tok == "" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	ctx := c.Request.Context()
	if rr := s.liveRefresh(c, tok); rr != nil && rr.ClientID == cl.ID {
		var err error
		if rr.Family != "" {
			err = s.revokeFamily(ctx, rr.Family)
		} else {
			err = s.kv.Put(ctx, nsRefresh, hashToken(tok), nil)
		}
		if err != nil {
			oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the token could not be revoked; retry")
			return
		}
	} else if g, err := s.verifier.Verify(ctx, tok); err == nil && g.ClientID == cl.ID && g.Issuer == s.cfg.Issuer {
		if err := s.revocations.Revoke(ctx, g.Issuer, g.TokenID, g.Expiry); err != nil {
			oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the token could not be revoked; retry")
			return
		}
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
}

// userinfo is the OpenID Connect UserInfo endpoint: the user behind a Bearer access
// token granted openid and fhirUser.
func (s *AuthServer) userinfo(c *gin.Context) {
	raw, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="aitgw"`)
		oauthError(c, http.StatusUnauthorized, "invalid_token", "userinfo needs a Bearer access token")
		return
	}
	g, err := s.verifier.Verify(c.Request.Context(), raw)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="aitgw", error="invalid_token"`)
		oauthError(c, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	if !g.HasScope(ScopeOpenID) || !g.HasScope(ScopeFHIRUser) || g.FHIRUser == "" {
		c.Header("WWW-Authenticate", `Bearer realm="aitgw", error="insufficient_scope"`)
		oauthError(c, http.StatusForbidden, "insufficient_scope", "userinfo needs a token granted openid and fhirUser")
		return
	}
	fu := g.FHIRUser
	if !strings.Contains(fu, "://") {
		fu = s.cfg.BaseURL + "/" + fu
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"sub": g.FHIRUser, "fhirUser": fu})
}
