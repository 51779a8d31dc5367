package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRulesFile: `serve --rules FILE` refuses to start on a file that loosens a
// safety limit, naming the setting; with a valid file the values in effect, each
// with its default, source and whether it was overridden, are read with $ait-rules.
func TestServeRulesFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("ziconotide-max-ug-per-day: 30\nome-threshold: 200\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data-bad"), "--rules", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ziconotide-max-ug-per-day") || !strings.Contains(string(out), "safety limit") {
		t.Fatalf("a rules file loosening the ziconotide maximum: err %v, output:\n%s", err, out)
	}
	good := filepath.Join(dir, "site.json")
	if err := os.WriteFile(good, []byte(`{"ome-threshold": 200, "ziconotide-max-ug-per-day": 9.6, "practice-setting": "PALLIATIF"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := Start(ctx, binary, filepath.Join(dir, "data"), "--rules", good)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	resp, err := g.Client().Do("GET", "$ait-rules", nil, nil)
	if err != nil || resp.Status != 200 {
		t.Fatalf("$ait-rules: %v %+v\n%s", err, resp, g.Logs())
	}
	var p struct {
		Parameter []struct {
			Name string `json:"name"`
			Part []struct {
				Name         string      `json:"name"`
				ValueDecimal json.Number `json:"valueDecimal"`
				ValueBoolean *bool       `json:"valueBoolean"`
				ValueString  string      `json:"valueString"`
			} `json:"part"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range p.Parameter {
		for _, x := range s.Part {
			v := string(x.ValueDecimal) + x.ValueString
			if x.ValueBoolean != nil {
				v = map[bool]string{true: "true", false: "false"}[*x.ValueBoolean]
			}
			got[s.Name+"."+x.Name] = v
		}
	}
	for k, want := range map[string]string{
		"ome-threshold.value": "200", "ome-threshold.default": "300", "ome-threshold.overridden": "true",
		"ziconotide-max-ug-per-day.value": "9.6", "ziconotide-max-ug-per-day.safety": "true",
		"ziconotide-max-ug-per-day.source": "Référentiel régional AIT §IX.1.c",
		"rcp-deadline-days.value":          "15", "rcp-deadline-days.overridden": "false",
		"time-zone.value":             "Europe/Paris",
		"practice-setting.overridden": "true", "healthcare-facility-type.overridden": "false",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}
