package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/aitgw/aitgw/profiles"
)

// validateCmd validates files offline against base R4 and the AIT guide, prints one
// OperationOutcome per file, and exits 1 when any has an error.
func validateCmd(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	profile := fs.String("profile", "", "canonical URL of a profile to validate against (besides meta.profile)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: aitgw validate [--profile URL] FILE...")
		return 2
	}
	pkg, err := profiles.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := 0
	for _, f := range fs.Args() {
		oo, err := profiles.ValidateFile(v, f, *profile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			code = 1
			continue
		}
		fmt.Printf("%s: %s\n", f, oo.JSON())
		if oo.HasErrors() {
			code = 1
		}
	}
	return code
}
