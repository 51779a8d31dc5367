package observe

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardQueriesNameRealMetrics: every aitgw_ metric the Grafana dashboard
// charts is one the gateway exports, so that a renamed metric cannot leave an empty
// panel behind.
func TestDashboardQueriesNameRealMetrics(t *testing.T) {
	b, err := os.ReadFile("grafana/aitgw-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	m.Gauge("aitgw_outbox_pending", "x", func() float64 { return 0 })
	m.Gauge("aitgw_outbox_oldest_pending_seconds", "x", func() float64 { return 0 })
	m.Gauge("aitgw_outbox_dead_letters", "x", func() float64 { return 0 })
	m.Gauge("aitgw_audit_backlog", "x", func() float64 { return 0 })
	m.Gauge("aitgw_pathway_overdue_steps", "x", func() float64 { return 0 })
	m.ObserveRequest("GET", "read", "Patient", 200, 1)
	m.commits.WithLabelValues("committed").Observe(0)
	m.validation.WithLabelValues("resource", "valid").Observe(0)
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range families {
		known[f.GetName()] = true
		known[f.GetName()+"_bucket"] = true
	}
	name := regexp.MustCompile(`aitgw_[a-z_]+`)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				if !known[n] && !known[strings.TrimSuffix(n, "_bucket")] {
					t.Errorf("panel %q charts %s, which the gateway does not export", p.Title, n)
				}
			}
		}
	}
}
