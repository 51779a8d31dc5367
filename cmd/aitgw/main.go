// Command aitgw is the AIT Gateway: a FHIR R4 server for the intrathecal analgesia
// (AIT) and interventional-radiology pain pathways.
//
//	aitgw serve     run the gateway
//	aitgw bench     drive a gateway and a bare handler over loopback, report ratios
//	aitgw token     mint a short-lived access token for the operator (--scope)
//	aitgw keys      rotate the signing keys
//	aitgw clients   register SMART clients
//	aitgw validate  validate files against R4 and the AIT guide, offline
//	aitgw launch    mint an EHR launch context for a SMART app
//	aitgw notify    list or replay dead-lettered notifications
//	aitgw users     create user accounts of the built-in authorization server
//	aitgw kit       run the conformance kit against a gateway (JUnit XML, HTML)
//
// Every flag also reads from an AITGW_* environment variable (--base-url from
// AITGW_BASE_URL…); a flag given on the command line wins.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

// commands maps each subcommand to its entry point; each returns the exit code.
var commands = map[string]func(args []string) int{
	"serve":    serveCmd,
	"bench":    benchCmd,
	"token":    tokenCmd,
	"keys":     keysCmd,
	"clients":  clientsCmd,
	"validate": validateCmd,
	"launch":   launchCmd,
	"notify":   notifyCmd,
	"users":    usersCmd,
	"kit":      kitCmd,
}

func main() {
	tuneGC()
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	run, ok := commands[os.Args[1]]
	if !ok {
		usage()
		os.Exit(2)
	}
	os.Exit(run(os.Args[2:]))
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: aitgw <command> [flags]\n\ncommands:")
	for _, c := range []string{"serve", "bench", "token", "keys", "clients", "validate", "launch", "notify", "users", "kit"} {
		fmt.Fprintln(os.Stderr, "  "+c)
	}
}

// tuneGC collects garbage less often than Go's default: the gateway keeps a small
// live heap and allocates a lot per request, so memory (plentiful on the hosts it
// runs on) is traded for CPU, with a soft limit so that the heap cannot run away.
// GOGC and GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(4 << 30)
	}
}
