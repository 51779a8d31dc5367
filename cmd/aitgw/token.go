package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aitgw/aitgw/server/smart"
)

// tokenCmd mints a short-lived access token for the operator of the host, signed
// with the gateway's own key under --data: for scripts and checks.
func tokenCmd(args []string) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	var cfg config
	cfg.operatorFlags(fs)
	scope := fs.String("scope", "system/*.cruds", "scopes of the token")
	ttl := fs.Duration("ttl", 15*time.Minute, "lifetime (at most 24h)")
	patient := fs.String("patient", "", "patient in context (for patient/ scopes)")
	fhirUser := fs.String("fhir-user", "", "fhirUser of the token, e.g. Practitioner/123")
	if err := parseWithConfig(fs, args, true); err != nil {
		return 2
	}
	if err := cfg.findGateway(); err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		return 1
	}
	tok, err := smart.MintContextToken(cfg.Data, cfg.smart(), *scope, *patient, *fhirUser, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		return 1
	}
	fmt.Println(tok)
	return 0
}

// keysCmd manages the signing keys: "aitgw keys rotate".
func keysCmd(args []string) int {
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprintln(os.Stderr, "usage: aitgw keys rotate [--data DIR]")
		return 2
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	var cfg config
	cfg.operatorFlags(fs)
	if err := parseWithConfig(fs, args[1:], true); err != nil {
		return 2
	}
	if err := cfg.recorded(); err != nil {
		fmt.Fprintln(os.Stderr, "keys:", err)
		return 1
	}
	if err := smart.RotateKeys(cfg.Data); err != nil {
		fmt.Fprintln(os.Stderr, "keys:", err)
		return 1
	}
	fmt.Println("signing keys rotated; the previous ones verify tokens for 24 h more")
	return 0
}
