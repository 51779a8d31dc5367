package fhir

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// xhtmlNS is the namespace of Narrative.div.
const xhtmlNS = "http://www.w3.org/1999/xhtml"

// narrativeElements are the XHTML elements R4 allows in a narrative (txt-1: the basic
// formatting elements of HTML 4.0 chapters 7–11 and 15, links, images), as the
// reference validator lists them. Anything else (script, style, form, iframe,
// object, embed, base, link, meta…) is refused.
var narrativeElements = map[string]bool{
	"p": true, "br": true, "div": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"a": true, "span": true, "b": true, "em": true, "i": true, "strong": true, "small": true, "big": true,
	"tt": true, "dfn": true, "q": true, "var": true, "abbr": true, "acronym": true, "cite": true,
	"blockquote": true, "hr": true, "address": true, "bdo": true, "kbd": true, "sub": true, "sup": true,
	"ul": true, "ol": true, "li": true, "dl": true, "dt": true, "dd": true, "pre": true, "table": true,
	"caption": true, "colgroup": true, "col": true, "thead": true, "tr": true, "tfoot": true, "tbody": true,
	"th": true, "td": true, "code": true, "samp": true, "img": true, "map": true, "area": true,
	"ins": true, "del": true, "u": true, "s": true, "strike": true, "center": true, "font": true,
}

// checkNarratives checks every Narrative.div of a resource (contained and Bundle
// entries included) against R4's XHTML rules: well-formed XHTML, a div in the XHTML
// namespace at the root, only the allowed elements, no event-handler attribute, no
// script URL, no processing instruction or DOCTYPE.
func checkNarratives(typ string, body []byte) *Error {
	return walkNarratives(bytes.TrimSpace(body), typ, "")
}

func walkNarratives(raw []byte, expr, key string) *Error {
	if len(raw) == 0 {
		return nil
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
					if msg := checkXHTML(div); msg != "" {
						return Errorf(http.StatusBadRequest, "value", expr+".div", "%s.div: %s (R4 narrative rules, txt-1)", expr, msg)
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

// checkXHTML returns what breaks R4's narrative rules in div, or "".
func checkXHTML(div string) string {
	d := xml.NewDecoder(strings.NewReader(div))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "not well-formed XHTML: " + err.Error()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (t.Name.Local != "div" || t.Name.Space != xhtmlNS) {
				return "the narrative must be a <div xmlns=\"" + xhtmlNS + "\">"
			}
			if t.Name.Space != xhtmlNS || !narrativeElements[t.Name.Local] {
				return "<" + t.Name.Local + "> is not allowed in a narrative"
			}
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(name, "on") {
					return "the event attribute " + a.Name.Local + " is not allowed in a narrative"
				}
				if name == "href" || name == "src" || name == "longdesc" || name == "cite" || name == "background" {
					v := strings.ToLower(strings.Join(strings.Fields(a.Value), ""))
					if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text/html") {
						return "a script URL is not allowed in a narrative (" + a.Name.Local + ")"
					}
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.ProcInst:
			return "processing instructions are not allowed in a narrative"
		case xml.Directive:
			return "<!" + "…> declarations are not allowed in a narrative"
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return "text outside the narrative's <div>"
			}
		}
	}
	if depth != 0 {
		return "not well-formed XHTML: unclosed element"
	}
	return ""
}
