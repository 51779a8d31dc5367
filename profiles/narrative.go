package profiles

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// xhtmlNS is the namespace of a narrative's div.
const xhtmlNS = "http://www.w3.org/1999/xhtml"

// narrativeElements are the XHTML elements R4 allows in a narrative (txt-1: HTML 4.0
// chapters 7-11 and 12 without forms, scripts, objects or frames), as HL7's reference
// validator lists them.
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
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// checkNarrative checks a Narrative.div against the XHTML rules of R4 (txt-1, txt-2):
// well-formed XHTML whose root is an XHTML div; only the allowed elements and
// attributes (no script, no event handler attribute on*, no form or object); images
// only from inside the resource (#id) or inline (data:); some non-whitespace content.
func checkNarrative(div, expr string) []fhir.Issue {
	var out []fhir.Issue
	bad := func(format string, a ...any) {
		if len(out) < 20 {
			out = append(out, fhir.Issue{Severity: fhir.SeverityError, Code: "value", Expression: []string{expr},
				Diagnostics: "base R4 narrative (txt-1): " + fmt.Sprintf(format, a...)})
		}
	}
	dec := xml.NewDecoder(strings.NewReader(div))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	depth, roots, text := 0, 0, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad("the div is not well-formed XHTML: %v", err)
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if depth == 0 {
				roots++
				if name != "div" || t.Name.Space != xhtmlNS {
					bad("the narrative must be an XHTML div (<div xmlns=%q>), not <%s> in namespace %q", xhtmlNS, name, t.Name.Space)
				}
			} else if t.Name.Space != xhtmlNS {
				bad("element <%s> is not in the XHTML namespace", name)
			}
			if !narrativeElements[name] {
				bad("element <%s> is not allowed in a narrative", name)
			}
			for _, a := range t.Attr {
				an := a.Name.Local
				if a.Name.Space == "xmlns" || an == "xmlns" {
					continue
				}
				if a.Name.Space == "http://www.w3.org/XML/1998/namespace" || a.Name.Space == "xml" {
					an = "xml:" + an
				}
				switch {
				case strings.HasPrefix(strings.ToLower(an), "on"):
					bad("event attribute %s on <%s> is not allowed (no scripts in a narrative)", an, name)
					continue
				case !narrativeAttributes[an] && !narrativeElementAttributes[name+"."+an]:
					bad("attribute %s is not allowed on <%s>", an, name)
					continue
				}
				v := strings.TrimSpace(strings.ToLower(a.Value))
				if name == "img" && an == "src" && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "data:") {
					bad("<img src> must reference the resource (#id) or be inline (data:), not %q", a.Value)
				}
				if (an == "href" || an == "src" || an == "cite" || an == "longdesc" || an == "usemap") && strings.HasPrefix(v, "javascript:") {
					bad("a javascript: URL in %s on <%s> is not allowed", an, name)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				bad("text outside the div")
			}
			if strings.TrimSpace(string(t)) != "" {
				text = true
			}
		case xml.ProcInst, xml.Directive:
			bad("processing instructions and directives are not allowed in a narrative")
		}
	}
	if roots != 1 {
		bad("the narrative must be exactly one div element, found %d root elements", roots)
	}
	if !text && !strings.Contains(div, "<img") {
		out = append(out, fhir.Issue{Severity: fhir.SeverityError, Code: "value", Expression: []string{expr},
			Diagnostics: "base R4 narrative (txt-2): the narrative must have some non-whitespace content"})
	}
	return out
}
