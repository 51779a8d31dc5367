package summary

import (
	"fmt"
	"html"
	"strconv"
	"strings"
)

const xhtmlNS = "http://www.w3.org/1999/xhtml"

// narrative is a generated Narrative holding one paragraph.
func narrative(text string) map[string]any {
	return map[string]any{"status": "generated",
		"div": `<div xmlns="` + xhtmlNS + `" lang="fr-FR" xml:lang="fr-FR"><p>` + html.EscapeString(text) + `</p></div>`}
}

// listNarrative is a generated Narrative with a heading and one item per line.
func listNarrative(head string, items []string) map[string]any {
	var b strings.Builder
	b.WriteString(`<div xmlns="` + xhtmlNS + `" lang="fr-FR" xml:lang="fr-FR"><p>` + html.EscapeString(head) + `</p><ul>`)
	for _, it := range items {
		b.WriteString("<li>" + html.EscapeString(it) + "</li>")
	}
	b.WriteString("</ul></div>")
	return map[string]any{"status": "generated", "div": b.String()}
}

// field walks a decoded JSON value; arrays yield their first element.
func field(v any, path ...string) any {
	for _, p := range path {
		if a, ok := v.([]any); ok {
			if len(a) == 0 {
				return nil
			}
			v = a[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := field(v, path...).(string)
	return s
}

func list(v any) []any {
	a, _ := v.([]any)
	return a
}

// refs returns the literal references of a Reference or a list of them.
func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, r := range x {
			out = append(out, refs(r)...)
		}
	case map[string]any:
		if r, _ := x["reference"].(string); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// split turns "Type/id" (relative) into its parts.
func split(ref string) (string, string) {
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return "", ""
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// concept renders a CodeableConcept for a French reader: the AIT code's French name,
// else the text, else the first display, else the code.
func concept(cc any) string {
	for _, c := range list(field(cc, "coding")) {
		if l, ok := frLabels[str(c, "code")]; ok {
			return l.label
		}
	}
	if t := str(cc, "text"); t != "" {
		return t
	}
	for _, c := range list(field(cc, "coding")) {
		if d := str(c, "display"); d != "" {
			return d
		}
	}
	for _, c := range list(field(cc, "coding")) {
		if d := str(c, "code"); d != "" {
			return d
		}
	}
	return "non codé"
}

// quantity renders a Quantity: "2,4 µg/j".
func quantity(q any) string {
	v, ok := field(q, "value").(float64)
	if !ok {
		return ""
	}
	unit := str(q, "code")
	if unit == "" {
		unit = str(q, "unit")
	}
	if fr, ok := frUnits[unit]; ok {
		unit = fr
	}
	n := strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1)
	return strings.TrimSpace(n + " " + unit)
}

// ratio renders a Ratio as a concentration: "50 mg/mL".
func ratio(r any) string {
	num, den := quantity(field(r, "numerator")), quantity(field(r, "denominator"))
	if num == "" {
		return ""
	}
	den = strings.TrimPrefix(den, "1 ")
	return num + "/" + den
}

// frDate renders a FHIR date or dateTime as dd/mm/yyyy.
func frDate(s string) string {
	if len(s) < 10 {
		return s
	}
	return s[8:10] + "/" + s[5:7] + "/" + s[0:4]
}

// status renders a status code in French.
func status(code string) string {
	if fr, ok := frStatus[code]; ok {
		return fr
	}
	return code
}

// displayName renders a Patient's or Practitioner's name.
func displayName(res map[string]any) string {
	n := field(res, "name")
	if t := str(n, "text"); t != "" {
		return t
	}
	var given []string
	for _, g := range list(field(n, "given")) {
		if s, ok := g.(string); ok {
			given = append(given, s)
		}
	}
	name := strings.TrimSpace(strings.Join(given, " ") + " " + strings.ToUpper(str(n, "family")))
	if name == "" {
		return "(sans nom)"
	}
	return name
}

// period renders a Period as "du … au …".
func period(p any) string {
	s, e := str(p, "start"), str(p, "end")
	switch {
	case s != "" && e != "":
		return fmt.Sprintf("du %s au %s", frDate(s), frDate(e))
	case s != "":
		return "à partir du " + frDate(s)
	case e != "":
		return "avant le " + frDate(e)
	}
	return ""
}
