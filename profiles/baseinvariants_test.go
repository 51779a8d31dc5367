package profiles

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/types"
)

// TestBaseInvariantsListed pins the base R4 invariants the engine does not evaluate:
// a new one (a compile failure after an engine upgrade) fails here, never silently.
func TestBaseInvariantsListed(t *testing.T) {
	list, err := UnevaluatedInvariants()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range list {
		if u.Reason == "" {
			t.Errorf("%s listed without a reason", u.Key)
		}
		got = append(got, u.Key)
		t.Logf("not evaluated by FHIRPath: %s — %s", u.Key, u.Reason)
	}
	sort.Strings(got)
	want := []string{"eld-19", "eld-20", "txt-1", "txt-2"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("unevaluated invariants = %v, want %v", got, want)
	}
	evaluated, total, err := BaseInvariantCount()
	if err != nil {
		t.Fatal(err)
	}
	if total < 230 || evaluated != total-2 {
		t.Errorf("base R4 invariants: %d evaluated of %d", evaluated, total)
	}
	t.Logf("base R4 invariants: %d of %d evaluated (ele-1, txt-1, txt-2 natively)", evaluated, total)
}

// TestEle1Equivalence proves that checkShape's native rule is ele-1 ("hasValue() or
// (children().count() > id.count())") on JSON objects: for each element object, the
// FHIRPath verdict equals "the object has a property other than id". Primitives always
// pass ele-1 in JSON (a value, or an object in the _ sibling, which this covers).
func TestEle1Equivalence(t *testing.T) {
	ele1 := fhirpath.MustCompile("hasValue() or (children().count() > id.count())")
	objects := []string{`{}`, `{"id":"a"}`, `{"id":"a","extension":[{"url":"u","valueString":"x"}]}`,
		`{"text":"x"}`, `{"id":"a","text":"x"}`, `{"coding":[{"code":"c"}]}`, `{"extension":[{"url":"u","valueString":"x"}]}`,
		`{"value":1}`, `{"id":"a","value":1.5}`, `{"start":"2024"}`, `{"id":"a","_value":{"extension":[{"url":"u","valueString":"x"}]}}`}
	for _, o := range objects {
		out, err := ele1.Evaluate([]byte(o))
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		fhirpathOK := !isFalse(out)
		var m map[string]any
		if err := json.Unmarshal([]byte(o), &m); err != nil {
			t.Fatal(err)
		}
		r := &run{}
		r.checkShape(map[string]any{"resourceType": "Basic", "x": m}, "Basic", true)
		nativeOK := len(r.issues) == 0
		if fhirpathOK != nativeOK {
			t.Errorf("%s: ele-1 by FHIRPath %v, natively %v", o, fhirpathOK, nativeOK)
		}
	}
}

// TestRewrittenInvariantsEquivalent: each rewritten invariant gives the original's
// verdict on Bundles of every type, with and without requests and responses.
func TestRewrittenInvariantsEquivalent(t *testing.T) {
	originals := map[string]string{
		"bdl-3": "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))",
		"bdl-4": "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))",
	}
	for _, typ := range []string{"document", "message", "transaction", "transaction-response", "batch", "batch-response", "history", "searchset", "collection"} {
		for _, entries := range []string{`[]`, `[{"resource":{"resourceType":"Basic"}}]`,
			`[{"request":{"method":"POST","url":"Basic"}}]`, `[{"response":{"status":"200"}}]`,
			`[{"request":{"method":"POST","url":"Basic"},"response":{"status":"200"}},{"resource":{"resourceType":"Basic"}}]`,
			`[{"request":{"method":"POST","url":"Basic"}},{"request":{"method":"GET","url":"Basic"}}]`} {
			body := []byte(`{"resourceType":"Bundle","type":"` + typ + `","entry":` + entries + `}`)
			for k, rw := range rewrittenInvariants {
				a, err1 := fhirpath.MustCompile(originals[k]).Evaluate(body)
				b, err2 := fhirpath.MustCompile(rw).Evaluate(body)
				if err1 != nil || err2 != nil || isFalse(a) != isFalse(b) {
					t.Errorf("%s on %s: original %v %v, rewritten %v %v", k, body, a, err1, b, err2)
				}
			}
		}
	}
}

// TestHoldsWithoutEvaluation: where the shortcut says an invariant holds, the engine
// agrees.
func TestHoldsWithoutEvaluation(t *testing.T) {
	m, err := loadBase()
	if err != nil {
		t.Fatal(err)
	}
	var ref1 *baseInvariant
	for _, inv := range m.invariants {
		if inv.key == "ref-1" {
			ref1 = inv
		}
	}
	root := `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o"}]}`
	for _, ref := range []string{`{"reference":"Patient/1"}`, `{"reference":"http://x.org/fhir/Patient/1"}`, `{"reference":"urn:uuid:7f4b2f7e-5b8a-4c1e-9d0a-1b2c3d4e5f60"}`,
		`{"reference":"o"}`, `{"reference":"Organization/o","display":"x"}`, `{"reference":"#o"}`, `{"reference":"#missing"}`, `{"display":"x"}`} {
		var val map[string]any
		if err := json.Unmarshal([]byte(ref), &val); err != nil {
			t.Fatal(err)
		}
		rootColl := fhirpath.Collection{types.NewObjectValue([]byte(root))}
		out, err := ref1.expr.EvaluateWithOptions(typed([]byte(ref), "Reference"), fhirpath.WithVariable("rootResource", rootColl), fhirpath.WithVariable("resource", rootColl))
		if err != nil {
			t.Fatal(err)
		}
		if holdsWithoutEvaluation["ref-1"](val) && isFalse(out) {
			t.Errorf("%s: shortcut says ref-1 holds, the engine says %v", ref, out)
		}
		if ref == `{"reference":"#missing"}` && !isFalse(out) {
			t.Errorf("ref-1 on a missing contained resource: %v, want false", out)
		}
	}
}
