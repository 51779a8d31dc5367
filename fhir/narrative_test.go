package fhir

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Finding #15.10: <script> in a narrative was accepted. A narrative follows R4's
// XHTML rules (txt-1), or the resource is refused with a 400 naming Narrative.div.
func TestNarrativeOutsideR4XHTMLIsRefused(t *testing.T) {
	wrap := func(div string) []byte {
		return []byte(`{"resourceType":"Patient","text":{"status":"generated","div":` + div + `}}`)
	}
	for name, div := range map[string]string{
		"script":          `"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"`,
		"event attribute": `"<div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"x\" onerror=\"alert(1)\"/></div>"`,
		"javascript URL":  `"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\" javascript:alert(1)\">x</a></div>"`,
		"iframe":          `"<div xmlns=\"http://www.w3.org/1999/xhtml\"><iframe src=\"https://x\"></iframe></div>"`,
		"no namespace":    `"<div>hello</div>"`,
		"not a div":       `"<p xmlns=\"http://www.w3.org/1999/xhtml\">hello</p>"`,
		"not XML":         `"<div xmlns=\"http://www.w3.org/1999/xhtml\"><b>unclosed</div>"`,
		"doctype":         `"<!DOCTYPE html><div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"`,
		"text outside":    `"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>tail"`,
	} {
		_, err := ParseResource(wrap(div))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if err.Status != http.StatusBadRequest || len(err.Outcome.Issue[0].Expression) == 0 || err.Outcome.Issue[0].Expression[0] != "Patient.text.div" {
			t.Errorf("%s: %d %s", name, err.Status, err.Outcome.JSON())
		}
	}
	// in a contained resource and in a Bundle entry too
	_, err := ParseResource([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script/></div>"}}}]}`))
	if err == nil || err.Outcome.Issue[0].Expression[0] != "Bundle.entry[0].resource.text.div" {
		t.Errorf("script in a Bundle entry: %v", err)
	}
	ok := `"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Jim <b>Chalmers</b></p><table><tr><td colspan=\"2\">x</td></tr></table><a href=\"#x\">y</a><img src=\"#pic\" alt=\"\"/></div>"`
	if _, err := ParseResource(wrap(ok)); err != nil {
		t.Errorf("valid narrative refused: %s", err.Outcome.JSON())
	}
}

// One rule set for the parser and the validator: CheckNarrative reports every
// problem with its rule; the parser refuses only the unsafe ones, so a narrative
// with an unknown attribute, an external image or no content is parsed (the
// validator refuses it with all its problems).
func TestCheckNarrativeRulesAndParser(t *testing.T) {
	const open = `<div xmlns="http://www.w3.org/1999/xhtml">`
	for _, c := range []struct {
		name, div, rule, message string
		unsafe                   bool
	}{
		{"script", open + `<script>x</script>y</div>`, "txt-1", "<script> is not allowed", true},
		{"vbscript URL", open + `<a href="vb script:x">y</a></div>`, "txt-1", "script URL in href", true},
		{"entity outside XML's", open + `a&nbsp;b</div>`, "txt-1", "not well-formed", true},
		{"attribute", open + `<p data-x="1">y</p></div>`, "txt-1", "attribute data-x is not allowed on <p>", false},
		{"external image", open + `<img src="https://x.example/a.png"/></div>`, "txt-1", "<img src> must reference", false},
		{"two roots", open + `x</div>` + open + `y</div>`, "txt-1", "exactly one div", false},
		{"empty", open + `  </div>`, "txt-2", "non-whitespace content", false},
	} {
		var found *NarrativeProblem
		for _, p := range CheckNarrative(c.div) {
			if p.Rule == c.rule && strings.Contains(p.Message, c.message) {
				found = &p
			}
		}
		if found == nil || found.Unsafe != c.unsafe {
			t.Errorf("%s: want %s %q (unsafe %v), got %+v", c.name, c.rule, c.message, c.unsafe, CheckNarrative(c.div))
			continue
		}
		div, _ := json.Marshal(c.div)
		_, err := ParseResource([]byte(`{"resourceType":"Patient","text":{"status":"generated","div":` + string(div) + `}}`))
		if (err != nil) != c.unsafe {
			t.Errorf("%s: parser refusal %v, want %v", c.name, err != nil, c.unsafe)
		}
	}
	if p := CheckNarrative(open + `<p>Jim <b>Chalmers</b></p><img src="#pic" alt=""/></div>`); len(p) > 0 {
		t.Errorf("valid narrative: %+v", p)
	}
}

// The parser skips subtrees without a div key, but not a key spelled with escapes.
func TestNarrativeEscapedKeyStillChecked(t *testing.T) {
	_, err := ParseResource([]byte(`{"resourceType":"Patient","text":{"status":"generated","\u0064iv":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script></div>"}}`))
	if err == nil {
		t.Error("a script in a div whose key is escaped was accepted")
	}
}
