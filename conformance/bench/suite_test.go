package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/e2e"
)

// The reference workload and the scale mode run against the real binary: every
// transaction and query gets the answer FHIR specifies, the runs are bounded, and the
// reports carry min/median/max with the load average. Figures are reported, never
// asserted.
func TestSuiteAgainstGateway(t *testing.T) {
	bin, err := e2e.Build(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	series, err := RunReference(context.Background(), Options{Duration: 300 * time.Millisecond},
		[]Variant{{Name: "binary", Gateway: processGateway(t, bin)}}, []int{1, 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 {
		t.Fatalf("%d series, want one per number of clients", len(series))
	}
	for _, s := range series {
		if len(s.Runs) != 3 || len(s.Load) != 3 || len(s.Bare) != 3 {
			t.Errorf("%d clients: %d runs, %d load averages, %d baselines; want 3 each", s.Clients, len(s.Runs), len(s.Load), len(s.Bare))
		}
		for _, r := range s.Runs {
			if r.Errors != 0 || r.Ops == 0 {
				t.Errorf("%s: %d ok, %d wrong answers", r.Name, r.Ops, r.Errors)
			}
		}
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("reference runs of 300ms took %s: not bounded", took)
	}
	md := ReferenceMarkdown(series)
	if !strings.Contains(md, "| binary | 4 |") {
		t.Errorf("report lacks the 4-client row:\n%s", md)
	}
	t.Logf("\n%s", md)

	rep, err := RunScale(context.Background(), ScaleOptions{Gateway: processGateway(t, bin), Checkpoints: []int{300, 600},
		Bundle: 130, Loaders: 2, Runs: 2, Requests: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checkpoints) != 2 || rep.Checkpoints[1].Resources < 600 {
		t.Fatalf("checkpoints %+v", rep.Checkpoints)
	}
	for _, c := range rep.Checkpoints {
		for _, q := range c.Queries {
			if q.Errors != 0 {
				t.Errorf("%d resources: %s: %d wrong answers", c.Resources, q.Name, q.Errors)
			}
			if q.Results == 0 && !strings.Contains(q.Name, "_has") {
				t.Errorf("%d resources: %s matched nothing: the population lacks what the query looks for", c.Resources, q.Name)
			}
		}
	}
	t.Logf("\n%s", rep.Markdown())
}
