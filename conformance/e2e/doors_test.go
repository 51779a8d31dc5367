package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
)

// TestStepsByEveryDoor (000 §III): the AIT steps posted alone, in a transaction and
// in a batch, in turn, advance the pathway CarePlan exactly as the kit says each step
// must; a step refused inside a batch is refused in its entry, as alone.
func TestStepsByEveryDoor(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	d, careplan := postReferral(t, c)
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	steps := kit.AITSteps(d, cast)
	doors := []string{"alone", "transaction", "batch"}
	for i, s := range steps {
		door := doors[i%3]
		var typ struct{ ResourceType string }
		json.Unmarshal(s.Body, &typ)
		switch door {
		case "alone":
			if r, err := c.Do(http.MethodPost, typ.ResourceType, s.Body, nil); err != nil || r.Status != http.StatusCreated {
				t.Fatalf("%s alone: %v %s", s.Name, err, r)
			}
		default:
			b := kit.JSON(map[string]any{"resourceType": "Bundle", "type": door, "entry": []any{
				map[string]any{"resource": json.RawMessage(s.Body), "request": map[string]any{"method": "POST", "url": typ.ResourceType}}}})
			r, err := c.Do(http.MethodPost, "", b, nil)
			if err != nil || r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"201 Created"`) {
				t.Fatalf("%s in a %s: %v %s", s.Name, door, err, r)
			}
		}
		r, _ := c.Do(http.MethodGet, "CarePlan/"+careplan, nil, nil)
		if got := kit.Statuses(r.Body); got != s.Want {
			t.Errorf("%s (%s): CarePlan %s, want %s", s.Name, door, got, s.Want)
		}
	}
	// a duplicate implantation in a batch: refused in its entry, nothing written
	before := total(t, c, "Procedure")
	b := kit.JSON(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"resource": json.RawMessage(steps[6].Body), "request": map[string]any{"method": "POST", "url": "Procedure"}}}})
	r, err := c.Do(http.MethodPost, "", b, nil)
	if err != nil || !strings.Contains(string(r.Body), `"status":"422`) || !strings.Contains(string(r.Body), "duplicate step") {
		t.Errorf("duplicate implantation in a batch: %v %s", err, r)
	}
	if after := total(t, c, "Procedure"); after != before {
		t.Errorf("the refused batch entry wrote: %d -> %d Procedures", before, after)
	}
}
