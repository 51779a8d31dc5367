package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aitgw/aitgw/profiles"
)

// packageFiles is a repeatable --package flag: paths of FHIR NPM packages (.tgz).
type packageFiles []string

// String implements flag.Value.
func (p *packageFiles) String() string { return strings.Join(*p, ",") }

// Set implements flag.Value.
func (p *packageFiles) Set(s string) error {
	*p = append(*p, s)
	return nil
}

// validateCmd validates files offline against base R4, the AIT guide and the FHIR
// packages given with --package, prints one OperationOutcome per file, and exits 1
// when any has an error.
func validateCmd(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	profile := fs.String("profile", "", "canonical URL of a profile to validate against (besides meta.profile)")
	var pkgs packageFiles
	fs.Var(&pkgs, "package", "FHIR NPM package (.tgz) whose profiles, ValueSets and CodeSystems are loaded; repeatable (give its dependencies too)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: aitgw validate [--profile URL] [--package FILE.tgz]... FILE...")
		return 2
	}
	v, err := loadValidator(pkgs, func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) })
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

// loadValidator builds the validator of the AIT guide plus the packages, and tells
// what of the packages is not checked.
func loadValidator(pkgs []string, say func(format string, a ...any)) (*profiles.Validator, error) {
	pkg, err := profiles.Load()
	if err != nil {
		return nil, err
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil || len(pkgs) == 0 {
		return v, err
	}
	return withPackages(v, pkgs, say)
}

// withPackages adds the FHIR NPM packages to v and reports what is not checked.
func withPackages(v *profiles.Validator, pkgs []string, say func(format string, a ...any)) (*profiles.Validator, error) {
	nv, skipped, err := v.WithPackages(pkgs...)
	if err != nil {
		return nil, err
	}
	for url, why := range skipped.Profiles {
		say("profile %s not checked: %s", url, why)
	}
	if n := len(skipped.Bindings); n > 0 {
		say("%d required bindings of the packages not checked (ValueSets not expandable offline)", n)
	}
	if n := len(skipped.DataTypes); n > 0 {
		say("%d data type profiles of the packages not checked", n)
	}
	return nv, nil
}
