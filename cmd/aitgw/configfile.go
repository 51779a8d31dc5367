package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// applyConfigFile sets the flags of fs named in a YAML or JSON file (JSON is YAML),
// one key per flag without its dashes: "addr: 0.0.0.0:8080", "cors-origin: [a, b]".
// A flag given on the command line wins over the file; the file wins over the
// AITGW_* environment and the defaults. An unknown key or a bad value stops the
// command, naming the key, so that a typo is never silently ignored.
//
// Operator commands read the gateway's own file (lenient): they take the keys they
// have (data, addr, base-url) and leave the others to serve.
func applyConfigFile(fs *flag.FlagSet, path string, lenient bool) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(b, &values); err != nil {
		return fmt.Errorf("--config %s: not YAML or JSON: %w", path, err)
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "config" {
			continue
		}
		if fs.Lookup(k) == nil {
			if lenient {
				continue
			}
			return fmt.Errorf("--config %s: %q is not a setting of this command (aitgw help %s lists them)", path, k, fs.Name())
		}
		if onCommandLine[k] {
			continue
		}
		vals := []any{values[k]}
		if list, ok := values[k].([]any); ok {
			vals = list
		}
		for _, v := range vals {
			if err := fs.Set(k, fmt.Sprint(v)); err != nil {
				return fmt.Errorf("--config %s: %s: %w", path, k, err)
			}
		}
	}
	return nil
}

// configFlag declares --config on fs.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", env("AITGW_CONFIG", ""), "settings file, YAML or JSON, one key per flag (AITGW_CONFIG); flags on the command line win")
}

// parseWithConfig parses args, then applies the --config file.
func parseWithConfig(fs *flag.FlagSet, args []string, lenient bool) error {
	cfgFile := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := applyConfigFile(fs, *cfgFile, lenient); err != nil {
		fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
		return err
	}
	return nil
}
