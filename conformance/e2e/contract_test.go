package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOperationsArePublished: every operation the CapabilityStatement lists under the
// guide's canonical has its OperationDefinition served by the gateway (searchable by
// url, its code the operation's name), and $validate is listed.
func TestOperationsArePublished(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	r, err := c.Do(http.MethodGet, "metadata", nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("metadata: %v %s", err, r)
	}
	var cs struct {
		Rest []struct {
			Operation []struct{ Name, Definition string }
			Resource  []struct {
				Type      string
				Operation []struct{ Name, Definition string }
			}
		}
	}
	json.Unmarshal(r.Body, &cs)
	defs := map[string]string{}
	validate := false
	for _, rest := range cs.Rest {
		for _, o := range rest.Operation {
			defs[o.Definition] = o.Name
		}
		for _, res := range rest.Resource {
			for _, o := range res.Operation {
				defs[o.Definition] = o.Name
				validate = validate || (o.Name == "validate" && res.Type == "Patient")
			}
		}
	}
	if !validate {
		t.Errorf("$validate is not listed in the CapabilityStatement")
	}
	ours := 0
	for def, name := range defs {
		if !strings.HasPrefix(def, "https://fhir.aitgw.org/ig/ait/OperationDefinition/") {
			continue
		}
		ours++
		r, err := c.Do(http.MethodGet, "OperationDefinition?url="+url.QueryEscape(def), nil, nil)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("OperationDefinition?url=%s: %v %s", def, err, r)
		}
		var b struct {
			Entry []struct{ Resource struct{ Code string } }
		}
		json.Unmarshal(r.Body, &b)
		if len(b.Entry) != 1 || b.Entry[0].Resource.Code != name {
			t.Errorf("$%s: its definition %s is not served (%d found)", name, def, len(b.Entry))
		}
	}
	if ours < 6 {
		t.Errorf("%d operations of the guide listed, want at least 6: %v", ours, defs)
	}
}
