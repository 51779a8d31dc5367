package fhir

import (
	"net/http"
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
