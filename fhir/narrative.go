package fhir

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// xhtmlNS is the namespace of Narrative.div.
const xhtmlNS = "http://www.w3.org/1999/xhtml"

// narrativeElements are the XHTML elements R4 allows in a narrative (txt-1: HTML 4.0
// chapters 7-11 and 12 without forms, scripts, objects or frames), as HL7's reference
// validator lists them. Anything else (script, style, form, iframe, object, embed,
// base, link, meta…) is refused.
var narrativeElements = setOf("p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em",
	"i", "strong", "small", "big", "tt", "dfn", "q", "var", "abbr", "acronym", "cite", "blockquote", "hr",
	"address", "bdo", "kbd", "sub", "sup", "ul", "ol", "li", "dl", "dt", "dd", "pre", "table", "caption",
	"colgroup", "col", "thead", "tr", "tfoot", "tbody", "th", "td", "code", "samp", "img", "map", "area")

// narrativeAttributes are allowed on any element; narrativeElementAttributes only on
// the element named before the dot.
var (
	narrativeAttributes = setOf("title", "style", "class", "id", "lang", "xml:lang", "dir", "accesskey",
		"tabindex", "span", "width", "align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope",
		"rowspan", "colspan")
	narrativeElementAttributes = setOf("a.href", "a.name", "img.src", "img.border", "div.xmlns",
		"blockquote.cite", "q.cite", "a.charset", "a.type", "a.hreflang", "a.rel", "a.rev", "a.shape",
		"a.coords", "img.alt", "img.longdesc", "img.height", "img.width", "img.usemap", "img.ismap",
		"map.name", "area.shape", "area.coords", "area.href", "area.nohref", "area.alt", "table.summary",
		"table.width", "table.border", "table.frame", "table.rules", "table.cellspacing",
		"table.cellpadding", "pre.space", "td.nowrap")
	// urlAttributes may hold a URL, so a script URL.
	urlAttributes = setOf("href", "src", "cite", "longdesc", "usemap", "background")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// NarrativeProblem is one way a Narrative.div breaks the XHTML rules of R4.
type NarrativeProblem struct {
	// Rule is the R4 invariant broken: "txt-1" (the XHTML rules) or "txt-2" (some
	// non-whitespace content).
	Rule string
	// Message says what is wrong, without the div's content.
	Message string
	// Unsafe marks what makes the narrative dangerous to show or unreadable as XHTML
	// (not well-formed, not an XHTML div, an element outside the list, an event
	// handler, a script URL, a declaration): the parser refuses these on every input.
	Unsafe bool
}

// maxNarrativeProblems bounds what CheckNarrative reports for one div.
const maxNarrativeProblems = 20

// CheckNarrative checks a Narrative.div against the XHTML rules of R4 (txt-1, txt-2):
// well-formed XHTML (XML's own entities only) whose root is one XHTML div; only the
// allowed elements and attributes (no script, no event handler attribute on*, no
// form or object); no script URL; images only from inside the resource (#id) or
// inline (data:); some non-whitespace content. It returns every problem found, up
// to 20; none for a valid narrative.
func CheckNarrative(div string) []NarrativeProblem {
	var out []NarrativeProblem
	bad := func(unsafe bool, format string, a ...any) {
		if len(out) < maxNarrativeProblems {
			out = append(out, NarrativeProblem{Rule: "txt-1", Message: fmt.Sprintf(format, a...), Unsafe: unsafe})
		}
	}
	dec := xml.NewDecoder(strings.NewReader(div))
	dec.Strict = true
	depth, roots, text := 0, 0, false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad(true, "the div is not well-formed XHTML: %v", err)
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if depth == 0 {
				roots++
				if name != "div" || t.Name.Space != xhtmlNS {
					bad(true, "the narrative must be an XHTML div (<div xmlns=%q>), not <%s> in namespace %q", xhtmlNS, name, t.Name.Space)
				}
			} else if t.Name.Space != xhtmlNS {
				bad(true, "element <%s> is not in the XHTML namespace", name)
			}
			if !narrativeElements[name] {
				bad(true, "element <%s> is not allowed in a narrative", name)
			}
			for _, a := range t.Attr {
				an := a.Name.Local
				if a.Name.Space == "xmlns" || an == "xmlns" {
					continue
				}
				if a.Name.Space == "http://www.w3.org/XML/1998/namespace" || a.Name.Space == "xml" {
					an = "xml:" + an
				}
				lower := strings.ToLower(an)
				if strings.HasPrefix(lower, "on") {
					bad(true, "event attribute %s on <%s> is not allowed (no scripts in a narrative)", an, name)
					continue
				}
				if urlAttributes[lower] {
					v := strings.ToLower(strings.Join(strings.Fields(a.Value), ""))
					if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text/html") {
						bad(true, "a script URL in %s on <%s> is not allowed", an, name)
						continue
					}
				}
				if !narrativeAttributes[an] && !narrativeElementAttributes[name+"."+an] {
					bad(false, "attribute %s is not allowed on <%s>", an, name)
					continue
				}
				if v := strings.TrimSpace(strings.ToLower(a.Value)); name == "img" && an == "src" && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "data:") {
					bad(false, "<img src> must reference the resource (#id) or be inline (data:), not %q", a.Value)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			nonBlank := len(bytes.TrimSpace(t)) > 0
			if depth == 0 && nonBlank {
				bad(true, "text outside the div")
			}
			text = text || nonBlank
		case xml.ProcInst, xml.Directive:
			bad(true, "processing instructions and declarations (<?…?>, <!…>) are not allowed in a narrative")
		}
	}
	if roots != 1 {
		bad(false, "the narrative must be exactly one div element, found %d root elements", roots)
	}
	if !text && !strings.Contains(div, "<img") {
		out = append(out, NarrativeProblem{Rule: "txt-2", Message: "the narrative must have some non-whitespace content"})
	}
	return out
}

// checkNarratives refuses a resource one of whose Narrative.div (contained and
// Bundle entries included) breaks an unsafe-kind rule of CheckNarrative: not
// well-formed XHTML, not an XHTML div at the root, an element outside the allowed
// list, an event-handler attribute, a script URL, a processing instruction or DOCTYPE.
// The other rules (attributes outside the list, external images, empty content) are
// the validator's to report, with every problem found.
func checkNarratives(typ string, body []byte) *Error {
	return walkNarratives(bytes.TrimSpace(body), typ, "")
}

// divKey is how a narrative's div key reads in JSON: a subtree without it (and
// without a \u escape, which could spell the key) holds no narrative.
var divKey, unicodeEscape = []byte(`"div"`), []byte(`\u`)

func walkNarratives(raw []byte, expr, key string) *Error {
	if len(raw) == 0 || !bytes.Contains(raw, divKey) && !bytes.Contains(raw, unicodeEscape) {
		return nil // most of a resource: not split at all
	}
	switch raw[0] {
	case '{':
		fl, err := splitObject(raw)
		if err != nil {
			return nil
		}
		for i, k := range fl.keys {
			v := bytes.TrimSpace(fl.vals[i])
			if k == "div" && key == "text" && len(v) > 0 && v[0] == '"' {
				var div string
				if json.Unmarshal(v, &div) == nil {
					for _, p := range CheckNarrative(div) {
						if p.Unsafe {
							return Errorf(http.StatusBadRequest, "value", expr+".div", "%s.div: %s (R4 narrative rules, %s)", expr, p.Message, p.Rule)
						}
					}
				}
				continue
			}
			if err := walkNarratives(v, expr+"."+k, k); err != nil {
				return err
			}
		}
	case '[':
		for j, it := range splitArray(raw) {
			if err := walkNarratives(bytes.TrimSpace(it), expr+"["+strconv.Itoa(j)+"]", key); err != nil {
				return err
			}
		}
	}
	return nil
}
