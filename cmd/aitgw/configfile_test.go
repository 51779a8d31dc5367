package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFile: a settings file sets serve's flags; the command line wins; an
// unknown key stops serve, naming it; operator commands take only their keys.
func TestConfigFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "aitgw.yaml")
	if err := os.WriteFile(file, []byte("addr: 0.0.0.0:9999\ndata: /srv/aitgw\nmetrics-addr: 127.0.0.1:9464\nmax-body: 1048576\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg config
	cfg.flags(fs)
	if err := parseWithConfig(fs, []string{"--config", file, "--data", "/from/flag"}, false); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9999" || cfg.Data != "/from/flag" || cfg.ops.MetricsAddr != "127.0.0.1:9464" || cfg.MaxBody != 1<<20 {
		t.Fatalf("settings from the file: %+v", cfg)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"adr": "x"}`), 0o600)
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg = config{}
	cfg.flags(fs)
	fs.SetOutput(new(strings.Builder))
	if err := parseWithConfig(fs, []string{"--config", bad}, false); err == nil || !strings.Contains(err.Error(), `"adr"`) {
		t.Fatalf("an unknown key: %v", err)
	}

	fs = flag.NewFlagSet("token", flag.ContinueOnError)
	cfg = config{}
	cfg.operatorFlags(fs)
	if err := parseWithConfig(fs, []string{"--config", file}, true); err != nil {
		t.Fatal(err)
	}
	if cfg.Data != "/srv/aitgw" {
		t.Fatalf("an operator command did not take data from the gateway's file: %+v", cfg)
	}
}
