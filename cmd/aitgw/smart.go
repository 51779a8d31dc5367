package main

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/server"
	"github.com/aitgw/aitgw/server/smart"
)

// wireSmart puts SMART on FHIR in front of every FHIR interaction: token
// verification, scope and compartment enforcement (through rest.Access), the built-in
// authorization server, and the audit trail. It returns the audit log and the
// CapabilityStatement's rest.security element.
func wireSmart(cfg *config, srv *server.Server, store, auditStore fhir.Store, v smart.EventValidator, logger *slog.Logger) (*smart.AuditLog, []byte, error) {
	sc := cfg.smart()
	var keys *smart.Keyset
	if sc.BuiltIn {
		var err error
		if keys, err = smart.OpenKeyset(cfg.Data); err != nil {
			return nil, nil, err
		}
	}
	verifier, err := smart.NewVerifier(sc, keys)
	if err != nil {
		return nil, nil, err
	}
	engine := srv.Engine()
	// the client address of the audit trail and the login throttle: X-Forwarded-For
	// only from the proxies named (gin trusts every client by default)
	var proxies []string
	if len(cfg.TrustedProxies) > 0 {
		proxies = cfg.TrustedProxies
	}
	if err := engine.SetTrustedProxies(proxies); err != nil {
		return nil, nil, err
	}
	// CORS before the audit and the verifier: a preflight carries no token
	cors, err := smart.NewCORS(cfg.base(), cfg.CORSOrigins)
	if err != nil {
		return nil, nil, err
	}
	engine.Use(cors.Middleware())
	var audit *smart.AuditLog
	if !cfg.withoutAudit {
		audit = smart.NewAuditLog(auditStore, v, "aitgw "+cfg.Addr, logger)
		engine.Use(audit.Middleware(basePath(cfg.base())))
	}
	engine.Use(verifier.Middleware())
	if sc.BuiltIn {
		kv := smart.StoreKV{Store: store}
		as, err := smart.NewAuthServer(sc, kv, keys, smart.StoreDirectory{Store: store})
		if err != nil {
			if audit != nil {
				audit.Close()
			}
			return nil, nil, err
		}
		// the picker and consent pages serve logged-in users only ("aitgw users add")
		as.Users = smart.LocalUsers{KV: kv}
		// the picker lists, and tokens are issued for, the patients in the user's care
		as.Access = smart.StoreCare{Store: store}
		if audit != nil {
			as.Audit = audit
		}
		verifier.Revocations = as.Revocations()
		as.Register(engine)
		srv.Mount(".well-known/smart-configuration", as.Discovery())
		srv.Mount(".well-known/openid-configuration", as.OpenIDConfiguration())
	}
	srv.Use(func(c *gin.Context) {
		if g := smart.GrantFrom(c); g != nil {
			server.RequestFrom(c).Access = g.Access()
		}
	})
	return audit, securityElement(cfg.base(), cors.Enabled()), nil
}

// securityElement declares SMART in the CapabilityStatement, with the OAuth URIs
// extension that older clients read instead of the discovery document.
func securityElement(base string, cors bool) []byte {
	origin := base
	if u, err := url.Parse(base); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	sec := map[string]any{
		"cors": cors,
		"service": []any{map[string]any{"coding": []any{map[string]string{
			"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}}}},
		"extension": []any{map[string]any{
			"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
			"extension": []any{
				map[string]string{"url": "authorize", "valueUri": origin + "/auth/authorize"},
				map[string]string{"url": "token", "valueUri": origin + "/auth/token"},
				map[string]string{"url": "register", "valueUri": origin + "/auth/register"},
				map[string]string{"url": "introspect", "valueUri": origin + "/auth/introspect"},
				map[string]string{"url": "revoke", "valueUri": origin + "/auth/revoke"},
			},
		}},
	}
	b, _ := json.Marshal(sec)
	return b
}

// basePath is the path part of the FHIR base URL (/fhir).
func basePath(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return "/fhir"
	}
	return strings.TrimRight(u.Path, "/")
}
