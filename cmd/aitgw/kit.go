package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aitgw/aitgw/conformance/kit"
)

// kitCmd runs the conformance kit against a gateway:
//
//	aitgw kit run --base URL --token T [--junit kit.xml] [--html kit.html]
//	aitgw kit run --base URL --client-id ID --key key.pem --kid K   (SMART Backend Services)
//
// It exits 1 when a check failed, 2 when it could not run.
func kitCmd(args []string) int {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(os.Stderr, "usage: aitgw kit run --base URL (--token T | --client-id ID --key FILE --kid K) [--junit FILE] [--html FILE]")
		return 2
	}
	fs := flag.NewFlagSet("kit run", flag.ContinueOnError)
	base := fs.String("base", env("AITGW_BASE_URL", ""), "FHIR base of the gateway under test")
	token := fs.String("token", os.Getenv("AITGW_TOKEN"), "bearer token (system/*.cruds) (AITGW_TOKEN)")
	junit := fs.String("junit", "aitgw-kit.xml", "JUnit XML report")
	html := fs.String("html", "aitgw-kit.html", "HTML report")
	clientID := fs.String("client-id", "", "backend-services client id (instead of --token)")
	keyFile := fs.String("key", "", "the client's private key, PKCS#8 PEM (EC P-384 or RSA)")
	kid := fs.String("kid", "", "the key's id in the client's JWKS")
	scope := fs.String("scope", "system/*.cruds", "scopes asked for with backend services")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *base == "" {
		fmt.Fprintln(os.Stderr, "kit run: --base is required")
		return 2
	}
	if *token == "" && *clientID != "" {
		pemBytes, err := os.ReadFile(*keyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kit run:", err)
			return 2
		}
		if *token, err = kit.BackendToken(context.Background(), *base, *clientID, pemBytes, *kid, *scope); err != nil {
			fmt.Fprintln(os.Stderr, "kit run:", err)
			return 2
		}
	}
	r := &kit.Runner{Base: *base, Token: *token}
	checks, err := r.Run(context.Background())
	if werr := os.WriteFile(*junit, kit.JUnit(checks), 0o644); werr != nil {
		fmt.Fprintln(os.Stderr, "kit run:", werr)
		return 2
	}
	if werr := os.WriteFile(*html, kit.HTML(checks), 0o644); werr != nil {
		fmt.Fprintln(os.Stderr, "kit run:", werr)
		return 2
	}
	failed := 0
	for _, c := range checks {
		if !c.Passed {
			failed++
		}
	}
	fmt.Printf("%d checks, %d failed; reports: %s, %s\n", len(checks), failed, *junit, *html)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kit run:", err)
		return 2
	}
	if failed > 0 {
		return 1
	}
	return 0
}
