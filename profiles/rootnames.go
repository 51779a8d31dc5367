package profiles

import (
	"strings"
	"unicode"
)

// rootNames returns the child elements an invariant reads from its context element
// (the names that start its paths at the top level: "contained" and "text" of
// "contained.contained.empty()" or "text.`div`.exists()"), so that the checker can
// skip it on an element that has none of them: it then evaluates as on an empty
// element, which is known once (baseInvariant.holdsWhenAbsent). ok is false when the
// expression reads the element otherwise (a function called on the element itself,
// $this, %resource, a type name), or uses a syntax this scan does not follow: the
// invariant is then always evaluated.
func rootNames(expr string) (names []string, ok bool) {
	type tok struct {
		kind byte // 'i' identifier, 'q' quoted identifier, 'v' %variable, '$' $this…, 'p' punctuation, 'l' literal
		text string
	}
	var toks []tok
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(expr) && (expr[i+1] == '/' || expr[i+1] == '*'):
			return nil, false // comments
		case c == '\'':
			j := i + 1
			for j < len(expr) && expr[j] != '\'' {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(expr) {
				return nil, false
			}
			toks = append(toks, tok{'l', expr[i : j+1]})
			i = j + 1
		case c == '`':
			j := strings.IndexByte(expr[i+1:], '`')
			if j < 0 {
				return nil, false
			}
			toks = append(toks, tok{'q', expr[i+1 : i+1+j]})
			i += j + 2
		case c == '%' || c == '$':
			j := i + 1
			if j < len(expr) && expr[j] == '`' {
				k := strings.IndexByte(expr[j+1:], '`')
				if k < 0 {
					return nil, false
				}
				toks = append(toks, tok{'v', expr[j+1 : j+1+k]})
				i = j + k + 2
				continue
			}
			for j < len(expr) && isIdentByte(expr[j]) {
				j++
			}
			kind := byte('v')
			if c == '$' {
				kind = '$'
			}
			toks = append(toks, tok{kind, expr[i+1 : j]})
			i = j
		case c == '@' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(expr) && (isIdentByte(expr[j]) || expr[j] == '-' && c == '@' || expr[j] == ':' || expr[j] == '.' && j+1 < len(expr) && expr[j+1] >= '0' && expr[j+1] <= '9') {
				j++
			}
			toks = append(toks, tok{'l', expr[i:j]})
			i = j
		case isIdentByte(c):
			j := i
			for j < len(expr) && isIdentByte(expr[j]) {
				j++
			}
			toks = append(toks, tok{'i', expr[i:j]})
			i = j
		default:
			toks = append(toks, tok{'p', string(c)})
			i++
		}
	}
	keywords := map[string]bool{"and": true, "or": true, "xor": true, "implies": true, "is": true, "as": true,
		"in": true, "contains": true, "div": true, "mod": true, "true": true, "false": true}
	stack := []bool{true} // per open bracket: whether its content reads the context element
	seen := map[string]bool{}
	for i, t := range toks {
		top := stack[len(stack)-1]
		prevDot := i > 0 && toks[i-1].kind == 'p' && toks[i-1].text == "."
		prevType := i > 0 && toks[i-1].kind == 'i' && (toks[i-1].text == "is" || toks[i-1].text == "as")
		call := i+1 < len(toks) && toks[i+1].kind == 'p' && toks[i+1].text == "("
		switch t.kind {
		case 'i', 'q':
			switch {
			case call && t.kind == 'i' && !keywords[t.text]:
				switch {
				case prevDot || !top:
					// a method's arguments read its input's items, not the element
					stack = append(stack, false)
				case t.text == "iif":
					stack = append(stack, true)
				default:
					return nil, false // exists(), children()… on the element itself
				}
			case prevDot || prevType || !top:
			case t.kind == 'i' && keywords[t.text]:
			case t.text == "" || unicode.IsUpper(rune(t.text[0])):
				return nil, false // a type name ("Patient.name") reads the element itself
			default:
				if !seen[t.text] {
					seen[t.text] = true
					names = append(names, t.text)
				}
			}
		case 'v', '$':
			if top && (t.kind == '$' && t.text == "this" || t.kind == 'v' && (t.text == "resource" || t.text == "rootResource" || t.text == "context")) {
				return nil, false
			}
		case 'p':
			switch t.text {
			case "(", "[":
				if i > 0 && toks[i-1].kind == 'i' && t.text == "(" && !keywords[toks[i-1].text] {
					continue // pushed with the function's name
				}
				stack = append(stack, top)
			case ")", "]":
				if len(stack) == 1 {
					return nil, false
				}
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) != 1 || len(names) == 0 {
		return nil, false
	}
	return names, true
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// noneOf reports whether the element m has none of the children names (as a value,
// a choice type or a primitive's "_name" extension).
func noneOf(m map[string]any, names []string) bool {
	for k := range m {
		k = strings.TrimPrefix(k, "_")
		for _, n := range names {
			if k == n || len(k) > len(n) && strings.HasPrefix(k, n) && k[len(n)] >= 'A' && k[len(n)] <= 'Z' {
				return false
			}
		}
	}
	return true
}
