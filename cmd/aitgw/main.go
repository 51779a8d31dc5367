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
//	aitgw version   print the build information
//	aitgw help      list the commands, or one command's flags
//
// Every flag also reads from an AITGW_* environment variable (--base-url from
// AITGW_BASE_URL…); a flag given on the command line wins.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// command is one subcommand: its entry point, which returns the exit code, and the
// line "aitgw help" shows for it.
type command struct {
	run     func(args []string) int
	summary string
}

// commands are the subcommands, in the order help lists them.
var commands = []struct {
	name string
	command
}{
	{"serve", command{serveCmd, "run the gateway (FHIR API, authorization server, notifications)"}},
	{"token", command{tokenCmd, "mint a short-lived access token signed with the running gateway's key"}},
	{"clients", command{clientsCmd, "register SMART client applications with the running gateway"}},
	{"users", command{usersCmd, "create user accounts of the built-in authorization server"}},
	{"launch", command{launchCmd, "mint an EHR launch context for a SMART app"}},
	{"keys", command{keysCmd, "rotate the signing keys of a gateway's data directory"}},
	{"notify", command{notifyCmd, "list or replay dead-lettered notifications"}},
	{"backup", command{backupCmd, "take a verified copy of the running gateway's stores, without stopping it"}},
	{"restore", command{restoreCmd, "restore a backup into an empty data directory, and verify it"}},
	{"kit", command{kitCmd, "run the AIT conformance kit against a gateway: JUnit XML and an HTML report"}},
	{"validate", command{validateCmd, "validate JSON files against R4 and the AIT guide, offline"}},
	{"bench", command{benchCmd, "measure a gateway against a bare handler over loopback"}},
	{"soak", command{soakCmd, "soak a fresh gateway at a steady mixed rate: latency, store size and memory per minute"}},
	{"probe", command{probeCmd, "ask a gateway's /readyz: exit 0 when ready (container health check)"}},
	{"version", command{versionCmd, "print the build information"}},
	{"help", command{nil, "list the commands, or show one command's flags: aitgw help COMMAND"}},
}

// help is wired at start: helpCmd reads the command table, which cannot name it in
// its own initialiser.
func init() { commands[len(commands)-1].run = helpCmd }

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c.command, true
		}
	}
	return command{}, false
}

func main() {
	tuneGC()
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "-h", "-help", "--help":
		usage(os.Stdout)
		os.Exit(0)
	case "-version", "--version":
		os.Exit(versionCmd(nil))
	}
	c, ok := lookup(os.Args[1])
	if !ok {
		fmt.Fprintf(os.Stderr, "aitgw: unknown command %q\n\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
	os.Exit(c.run(os.Args[2:]))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "AIT Gateway: a FHIR R4 gateway for the intrathecal analgesia (AIT) and interventional-radiology pain pathways.")
	fmt.Fprintln(w, "\nusage: aitgw COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEach command's flags: aitgw help COMMAND (or aitgw COMMAND -h). Every flag also reads an AITGW_* environment variable; a flag on the command line wins.")
	fmt.Fprintln(w, "Operator commands (token, clients, users, launch, notify) find the running gateway through DATA/gateway.json: give them the --data of that gateway.")
}

// helpCmd lists the commands, or runs one with -h so that it prints its own flags.
func helpCmd(args []string) int {
	if len(args) == 0 {
		usage(os.Stdout)
		return 0
	}
	c, ok := lookup(args[0])
	if !ok || args[0] == "help" {
		fmt.Fprintf(os.Stderr, "aitgw help: unknown command %q\n", args[0])
		return 2
	}
	fmt.Printf("aitgw %s: %s\n\n", args[0], c.summary)
	c.run(append(args[1:], "-h"))
	return 0
}

// versionCmd prints the version and the build information Go records in the binary.
func versionCmd([]string) int {
	fmt.Printf("aitgw %s\n", version)
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Printf("go %s\nmodule %s\n", bi.GoVersion, bi.Main.Path)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "-race":
				fmt.Printf("%s %s\n", s.Key, s.Value)
			}
		}
	}
	return 0
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
