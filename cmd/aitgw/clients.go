package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/aitgw/aitgw/server/smart"
)

// clientsCmd registers a SMART client with the running gateway:
//
//	aitgw clients add --name "Dossier app" --auth none --redirect-uri https://app/cb --scope "patient/*.rs launch/patient openid fhirUser"
//	aitgw clients add --name hub --auth private_key_jwt --jwks-url https://hub/jwks --scope "system/*.rs"
//
// It signs an operator token with the key under --data and calls the registration
// endpoint, so that the gateway's store stays in the gateway's hands.
func clientsCmd(args []string) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(os.Stderr, "usage: aitgw clients add --name N --auth none|client_secret_basic|private_key_jwt [--redirect-uri U]... [--jwks-url U | --jwks FILE] --scope S")
		return 2
	}
	fs := flag.NewFlagSet("clients add", flag.ContinueOnError)
	var cfg config
	cfg.operatorFlags(fs)
	name := fs.String("name", "", "client name")
	auth := fs.String("auth", "none", "token endpoint auth method: none (public), client_secret_basic, private_key_jwt")
	var redirects multiFlag
	fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable)")
	jwksURL := fs.String("jwks-url", "", "URL of the client's JWK Set (private_key_jwt)")
	jwksFile := fs.String("jwks", "", "file holding the client's JWK Set (private_key_jwt)")
	scope := fs.String("scope", "", "scopes the client may be granted")
	if err := parseWithConfig(fs, args[1:], true); err != nil {
		return 2
	}
	if err := cfg.findGateway(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	meta := map[string]any{"client_name": *name, "token_endpoint_auth_method": *auth, "scope": *scope, "redirect_uris": []string(redirects)}
	if *jwksURL != "" {
		meta["jwks_uri"] = *jwksURL
	}
	if *jwksFile != "" {
		b, err := os.ReadFile(*jwksFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "clients:", err)
			return 1
		}
		meta["jwks"] = json.RawMessage(b)
	}
	st, out, err := operatorCall(&cfg, smart.ScopeRegister, http.MethodPost, cfg.origin()+"/auth/register", meta)
	return report(st, out, err, http.StatusCreated)
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
