package search

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
)

// scan is one range of index keys [from, to) of a parameter, with an optional filter
// for what a range cannot express (interval ends, :contains).
type scan struct {
	from, to []byte
	keep     func(key []byte) bool
}

// exactScan matches the one key k.
func exactScan(k []byte) scan { return scan{from: k, to: succ(k)} }

// prefixScan matches every key starting with p.
func prefixScan(p []byte) scan { return scan{from: p, to: succ(p)} }

// within prefixes a scan of inner keys with pre (composite parameters).
func (s scan) within(pre []byte) scan {
	out := scan{from: append(append([]byte(nil), pre...), s.from...), to: append(append([]byte(nil), pre...), s.to...)}
	if s.keep != nil {
		n, keep := len(pre), s.keep
		out.keep = func(k []byte) bool { return keep(k[n:]) }
	}
	return out
}

// prefixes of the comparison operators of number, date and quantity values.
var prefixes = map[string]bool{"eq": true, "ne": true, "gt": true, "lt": true, "ge": true,
	"le": true, "sa": true, "eb": true, "ap": true}

// splitPrefix separates a comparison prefix from a value ("ge2020" → "ge", "2020").
func splitPrefix(v string) (op, rest string, ok bool) {
	if len(v) >= 2 && v[0] >= 'a' && v[0] <= 'z' && v[1] >= 'a' && v[1] <= 'z' {
		if !prefixes[v[:2]] {
			return "", v, false
		}
		return v[:2], v[2:], true
	}
	return "eq", v, true
}

// tokenScans matches a token value: code, system|code, |code, system|, or :text.
func tokenScans(v, modifier string) []scan {
	if modifier == "text" {
		return []scan{prefixScan(prefixKey(tagText, normalize(v)))}
	}
	parts := splitEsc(v, '|')
	if len(parts) == 1 {
		return []scan{exactScan(key(tagCode, unescape(v)))}
	}
	sys, code := unescape(parts[0]), unescape(strings.Join(parts[1:], "|"))
	switch {
	case code == "":
		return []scan{prefixScan(key(tagSysCode, sys))}
	case sys == "":
		return []scan{exactScan(key(tagNoSys, code))}
	}
	return []scan{exactScan(key(tagSysCode, sys, code))}
}

// stringScans matches a string value: starts-with (default), :exact, :contains.
func stringScans(v, modifier string) []scan {
	v = unescape(v)
	switch modifier {
	case "exact":
		return []scan{exactScan(key(tagExact, v))}
	case "contains":
		n := []byte(normalize(v))
		return []scan{{from: []byte{tagPrefix}, to: []byte{tagPrefix + 1}, keep: func(k []byte) bool {
			return bytes.Contains(k[1:len(k)-1], n)
		}}}
	}
	return []scan{prefixScan(prefixKey(tagPrefix, normalize(v)))}
}

// uriScans matches a uri: exact, :below (prefix), :above (the value starts with the
// stored uri).
func uriScans(v, modifier string) []scan {
	v = unescape(v)
	switch modifier {
	case "below":
		return []scan{prefixScan(prefixKey(tagURI, v))}
	case "above":
		return []scan{{from: []byte{tagURI}, to: []byte{tagURI + 1}, keep: func(k []byte) bool {
			return strings.HasPrefix(v, string(k[1:len(k)-1]))
		}}}
	}
	return []scan{exactScan(key(tagURI, v))}
}

// dateScans matches a date value against stored intervals, per the R4 rules: the
// search value [ql, qh] is the interval its precision implies.
func dateScans(op string, ql, qh int64, now time.Time) []scan {
	lo := func(ms int64) []byte { return appendInstant([]byte{tagLow}, ms) }
	hi := func(ms int64) []byte { return appendInstant([]byte{tagHigh}, ms) }
	ends := func(k []byte) (int64, int64) { return decodeInstant(k[1:9]), decodeInstant(k[9:17]) }
	allLow := scan{from: []byte{tagLow}, to: []byte{tagLow + 1}}
	switch op {
	case "eq": // the stored interval lies within the search interval
		return []scan{{from: lo(ql), to: lo(qh + 1), keep: func(k []byte) bool { _, h := ends(k); return h <= qh }}}
	case "ne":
		allLow.keep = func(k []byte) bool { l, h := ends(k); return !(l >= ql && h <= qh) }
		return []scan{allLow}
	case "gt": // some of the stored interval is after the search interval
		return []scan{{from: hi(qh + 1), to: []byte{tagHigh + 1}}}
	case "ge":
		return []scan{{from: hi(ql), to: []byte{tagHigh + 1}}}
	case "lt":
		return []scan{{from: []byte{tagLow}, to: lo(ql)}}
	case "le":
		return []scan{{from: []byte{tagLow}, to: lo(qh + 1)}}
	case "sa": // starts after the search interval ends
		return []scan{{from: lo(qh + 1), to: []byte{tagLow + 1}}}
	case "eb": // ends before the search interval starts
		return []scan{{from: []byte{tagHigh}, to: hi(ql)}}
	case "ap": // overlaps the search interval widened by 10% of its distance to now
		d := now.UnixMilli() - ql
		if d < 0 {
			d = -d
		}
		d = max(d/10, int64(24*time.Hour/time.Millisecond))
		a, b := ql-d, qh+d
		return []scan{{from: []byte{tagLow}, to: lo(b + 1), keep: func(k []byte) bool { _, h := ends(k); return h >= a }}}
	}
	return nil
}

// numberScans matches numbers stored as pre+float. eq uses the precision of the
// search value: 100 matches [99.5, 100.5), 100.00 matches [99.995, 100.005).
func numberScans(pre []byte, op string, v, half float64) []scan {
	at := func(f float64) []byte { return appendFloat(append([]byte(nil), pre...), f) }
	all := func(from, to []byte) scan {
		if from == nil {
			from = append([]byte(nil), pre...)
		}
		if to == nil {
			to = succ(pre)
		}
		return scan{from: from, to: to}
	}
	up := math.Nextafter(v, math.Inf(1))
	switch op {
	case "eq":
		return []scan{all(at(v-half), at(v+half))}
	case "ne":
		return []scan{all(nil, at(v-half)), all(at(v+half), nil)}
	case "gt", "sa":
		return []scan{all(at(up), nil)}
	case "ge":
		return []scan{all(at(v), nil)}
	case "lt", "eb":
		return []scan{all(nil, at(v))}
	case "le":
		return []scan{all(nil, at(up))}
	case "ap":
		d := math.Abs(v) / 10
		return []scan{all(at(v-d), at(math.Nextafter(v+d, math.Inf(1))))}
	}
	return nil
}

// parseNumber reads a search number and the half-width its precision implies.
func parseNumber(s string) (v, half float64, ok bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || strings.ContainsAny(s, "xXpP_") {
		return 0, 0, false
	}
	decimals := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		decimals = len(s[i+1:])
		if j := strings.IndexAny(s[i+1:], "eE"); j >= 0 {
			decimals = j
		}
	}
	return v, 0.5 * math.Pow10(-decimals), true
}

// splitEsc splits s on sep where sep is not escaped by a backslash; escapes are kept.
func splitEsc(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescape removes the search escapes \, \| \$ \\.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
