package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of numbers in submitted JSON. R4 integers (integer, positiveInt,
// unsignedInt) are 32-bit; decimals keep their precision, which the server caps: more
// significant digits than MaxDecimalDigits, or an exponent beyond what a float64
// holds, is refused rather than stored and served back rounded.
const (
	MaxDecimalDigits   = 32
	maxExponentDigits  = 4
	utf8BOM            = "\xef\xbb\xbf"
	strictRootFallback = "$this"
)

// integerElements are the R4 elements whose type is integer, positiveInt or
// unsignedInt in every resource and datatype that has them (from the base R4 JSON
// schema). Choice elements ending in Integer, PositiveInt or UnsignedInt are integers
// too. Names that are integers in some types and decimals in others (sequence, total,
// quantity…) are not listed: the schema validator checks them as numbers.
var integerElements = map[string]bool{
	"axis": true, "careTeamSequence": true, "coordinateSystem": true, "count": true, "countMax": true,
	"decimalPrecision": true, "denominatorCount": true, "detailSequence": true, "diagnosisSequence": true,
	"dimensions": true, "frames": true, "frequencyMax": true, "groupSize": true, "index": true,
	"informationSequence": true, "itemSequence": true, "maxLength": true, "min": true,
	"minutesDuration": true, "noteNumber": true, "numFN": true, "numFP": true, "numTP": true,
	"numberOfInstances": true, "numberOfParticipants": true, "numberOfRepeatsAllowed": true,
	"numberOfSeries": true, "numberOfStudies": true, "numberOfSubunits": true, "numberOfUnits": true,
	"numeratorCount": true, "offset": true, "precedence": true, "procedureSequence": true, "rank": true,
	"readCoverage": true, "reliableCache": true, "repetitions": true, "securityLabelNumber": true,
	"size": true, "subDetailSequence": true, "subdetailSequence": true, "supportingInfoSequence": true,
	"windowEnd": true, "windowStart": true,
}

func isIntegerElement(name string) bool {
	return integerElements[name] || strings.HasSuffix(name, "Integer") ||
		strings.HasSuffix(name, "PositiveInt") || strings.HasSuffix(name, "UnsignedInt")
}

// TrimBOM drops a leading UTF-8 byte order mark, which RFC 8259 lets a parser ignore.
func TrimBOM(b []byte) []byte { return []byte(strings.TrimPrefix(string(b), utf8BOM)) }

// strictError is a rule of FHIR JSON broken at a path.
type strictError struct {
	path []string
	msg  string
}

// strictScan checks what encoding/json lets through but FHIR JSON forbids, so that
// the bytes stored mean one thing to every reader: invalid UTF-8, \u0000 and lone
// surrogates; duplicate keys (resourceType included); null values, and nulls in an
// array without the _element array they align with; empty arrays and objects;
// numbers beyond R4's ranges. b must be valid JSON no deeper than MaxDepth.
func strictScan(b []byte) *Error {
	if !utf8.Valid(b) {
		return Errorf(http.StatusBadRequest, "structure", "", "the body is not valid UTF-8")
	}
	s := &strictScanner{b: b}
	err := s.value("", nil)
	if err == nil {
		return nil
	}
	var se *strictError
	if !errors.As(err, &se) {
		return Errorf(http.StatusBadRequest, "structure", "", "malformed JSON: %v", err)
	}
	root := s.rootType
	if root == "" {
		root = strictRootFallback
	}
	expr := root
	for _, p := range se.path {
		if strings.HasPrefix(p, "[") {
			expr += p
		} else {
			expr += "." + p
		}
	}
	return Errorf(http.StatusBadRequest, "structure", expr, "%s: %s", expr, se.msg)
}

func (e *strictError) Error() string { return e.msg }

type strictScanner struct {
	b        []byte
	i        int
	rootType string
}

func (s *strictScanner) fail(path []string, format string, args ...any) error {
	return &strictError{path: append([]string(nil), path...), msg: fmt.Sprintf(format, args...)}
}

func (s *strictScanner) ws() { s.i = skipSpace(s.b, s.i) }

// value checks the value at s.i, the member name of the element it belongs to.
func (s *strictScanner) value(name string, path []string) error {
	s.ws()
	if s.i >= len(s.b) {
		return s.fail(path, "unexpected end of JSON")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(path)
	case c == '[':
		return s.fail(path, "an array must be the value of an element")
	case c == '"':
		_, err := s.str(path)
		return err
	case c == 'n':
		return s.fail(path, "null is not a FHIR value: leave the element out")
	case c == 't':
		s.i += 4
	case c == 'f':
		s.i += 5
	default:
		return s.number(name, path)
	}
	return nil
}

func (s *strictScanner) object(path []string) error {
	s.i++ // {
	s.ws()
	if s.b[s.i] == '}' {
		return s.fail(path, "an object must not be empty")
	}
	seen := map[string]bool{}
	var nullArrays []string
	for {
		s.ws()
		key, err := s.str(path)
		if err != nil {
			return err
		}
		kpath := append(path, key)
		if seen[key] {
			return s.fail(kpath, "the key %q appears twice in one object", key)
		}
		seen[key] = true
		s.ws()
		s.i++ // :
		s.ws()
		if s.b[s.i] == '[' {
			hasNull, err := s.array(key, kpath)
			if err != nil {
				return err
			}
			if hasNull {
				nullArrays = append(nullArrays, key)
			}
		} else {
			start := s.i
			if err := s.value(key, kpath); err != nil {
				return err
			}
			if len(path) == 0 && key == "resourceType" && s.b[start] == '"' && s.rootType == "" {
				if t := string(s.b[start+1 : s.i-1]); IsResourceType(t) {
					s.rootType = t
				}
			}
		}
		s.ws()
		if s.b[s.i] == '}' {
			s.i++
			break
		}
		s.i++ // ,
	}
	for _, k := range nullArrays {
		partner := "_" + k
		if strings.HasPrefix(k, "_") {
			partner = k[1:]
		}
		if !seen[partner] {
			return s.fail(append(path, k), "null in an array is only allowed to align with %s", partner)
		}
	}
	return nil
}

// array checks an array value; it reports whether it holds nulls, which FHIR allows
// only to align a primitive array with its _element array.
func (s *strictScanner) array(name string, path []string) (bool, error) {
	s.i++ // [
	s.ws()
	if s.b[s.i] == ']' {
		return false, s.fail(path, "an array must not be empty: leave the element out")
	}
	hasNull, allNull := false, true
	for n := 0; ; n++ {
		s.ws()
		ipath := append(path, "["+strconv.Itoa(n)+"]")
		if s.b[s.i] == 'n' {
			hasNull = true
			s.i += 4
		} else {
			allNull = false
			if err := s.value(name, ipath); err != nil {
				return false, err
			}
		}
		s.ws()
		if s.b[s.i] == ']' {
			s.i++
			break
		}
		s.i++ // ,
	}
	if hasNull && allNull && !strings.HasPrefix(name, "_") {
		return false, s.fail(path, "an array of nulls only: leave the element out")
	}
	return hasNull, nil
}

// str reads a string at s.i, refusing \u0000 and lone surrogates, and returns its
// content when it has no escapes (enough for keys and resourceType).
func (s *strictScanner) str(path []string) (string, error) {
	start := s.i
	s.i++ // "
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return string(s.b[start+1 : s.i-1]), nil
		case '\\':
			if s.b[s.i+1] != 'u' {
				s.i += 2
				continue
			}
			r := hex4(s.b[s.i+2 : s.i+6])
			s.i += 6
			switch {
			case r == 0:
				return "", s.fail(path, `\u0000 is not allowed in a FHIR string`)
			case r >= 0xDC00 && r <= 0xDFFF:
				return "", s.fail(path, `\u%04X is a lone low surrogate: not valid UTF-16`, r)
			case r >= 0xD800 && r <= 0xDBFF:
				if s.i+6 > len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
					return "", s.fail(path, `\u%04X is a lone high surrogate: not valid UTF-16`, r)
				}
				if lo := hex4(s.b[s.i+2 : s.i+6]); lo < 0xDC00 || lo > 0xDFFF {
					return "", s.fail(path, `\u%04X is a lone high surrogate: not valid UTF-16`, r)
				}
				s.i += 6
			}
		default:
			s.i++
		}
	}
	return "", s.fail(path, "unterminated string")
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

// number checks a number against R4's ranges.
func (s *strictScanner) number(name string, path []string) error {
	start := s.i
	for s.i < len(s.b) && strings.IndexByte("+-0123456789.eE", s.b[s.i]) >= 0 {
		s.i++
	}
	tok := string(s.b[start:s.i])
	mant, exp, hasExp := strings.Cut(strings.ToLower(tok), "e")
	digits := 0
	for _, c := range strings.TrimLeft(strings.TrimLeft(mant, "-"), "0.") {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits > MaxDecimalDigits {
		return s.fail(path, "%d significant digits: more than the %d a decimal may carry here", digits, MaxDecimalDigits)
	}
	if hasExp && len(strings.TrimLeft(exp, "+-")) > maxExponentDigits {
		return s.fail(path, "the exponent of %.20s… is out of range", tok)
	}
	if isIntegerElement(name) {
		if _, err := strconv.ParseInt(tok, 10, 32); err != nil {
			return s.fail(path, "%.40s is not an R4 integer (32 bits: -2147483648 to 2147483647)", tok)
		}
		return nil
	}
	if _, err := strconv.ParseFloat(tok, 64); err != nil {
		return s.fail(path, "%.40s is out of the range of a decimal", tok)
	}
	return nil
}
