// Command gendict trains the S2 dictionary that fhir/bolt compresses stored bodies
// and entry lists with (fhir/bolt/fhirjson.s2dict), from the official FHIR R4 examples
// (npm package hl7.fhir.r4.examples 4.0.1, as testdata/fetch-examples.sh fetches it):
//
//	go run ./fhir/bolt/internal/gendict "$(sh testdata/fetch-examples.sh | tail -1)" fhir/bolt/fhirjson.s2dict
//
// The dictionary is part of the store format (aitgw-bolt/3 and later): a file written with it
// reads only with it. It was generated once; generating it again (other examples,
// another library version) gives another dictionary, which would need a new format
// and a migration, so this command documents how the committed one was made.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/s2"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gendict EXAMPLES-DIR OUT")
		os.Exit(2)
	}
	files, _ := filepath.Glob(filepath.Join(os.Args[1], "*.json"))
	sort.Strings(files)
	var samples [][]byte
	for _, f := range files {
		if filepath.Base(f) == "package.json" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if len(b) > 0 && len(b) <= 64<<10 { // a resource of a usual size, not a terminology
			samples = append(samples, b)
		}
	}
	d, err := dict.BuildS2Dict(samples, dict.Options{MaxDictSize: s2.MaxDictSize, HashBytes: 6})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], d, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d samples, dictionary of %d bytes\n", len(samples), len(d))
}
