package search

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Index key encoding. Every key starts with a tag byte naming its form, so that the
// forms of one parameter never collide and each form sorts as a contiguous range.
// Text components end with a 0x00 terminator (NUL is stripped from values), so that
// an exact match is the range [k, k with last byte+1) and a prefix match is the range
// of keys starting with the unterminated prefix. Numbers and instants are 8 bytes,
// big-endian, with the sign flipped so that byte order is numeric order.
//
//	token      'c' code 0                 code whatever the system
//	           's' system 0 code 0         system|code (and system| as a prefix)
//	           'n' code 0                  |code: no system
//	           'x' normalised text 0       :text (CodeableConcept.text, Coding.display)
//	string     'p' normalised 0            default starts-with, :contains
//	           'e' exact 0                 :exact
//	reference  'r' reference 0             Type/id, absolute URL, canonical[|version]
//	           'i' id 0                    the id alone (param=id)
//	           'y' system 0 value 0        Reference.identifier (:identifier)
//	uri        'u' uri 0                   exact, :below (prefix), :above
//	date       'l' low high                interval, scanned by its start
//	           'h' high low                interval, scanned by its end
//	number     'v' value
//	quantity   'q' value                   any unit
//	           'Q' system 0 code 0 value   system|code
//	           'C' code 0 value            ||code (code or unit)
//	composite  'k' key1 key2               first component exact, second any form
const (
	tagCode       = 'c'
	tagSysCode    = 's'
	tagNoSys      = 'n'
	tagText       = 'x'
	tagPrefix     = 'p'
	tagExact      = 'e'
	tagRef        = 'r'
	tagRefID      = 'i'
	tagRefIdent   = 'y'
	tagURI        = 'u'
	tagLow        = 'l'
	tagHigh       = 'h'
	tagNumber     = 'v'
	tagQty        = 'q'
	tagQtySysCode = 'Q'
	tagQtyCode    = 'C'
	tagComposite  = 'k'
)

// key builds a key from a tag and text parts, each terminated by 0x00.
func key(tag byte, parts ...string) []byte {
	n := 1
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n+16)
	b = append(b, tag)
	for _, p := range parts {
		b = append(b, strings.ReplaceAll(p, "\x00", "")...)
		b = append(b, 0)
	}
	return b
}

// prefixKey builds the unterminated prefix tag+s for starts-with scans.
func prefixKey(tag byte, s string) []byte {
	return append([]byte{tag}, strings.ReplaceAll(s, "\x00", "")...)
}

// succ returns the smallest key greater than every key starting with k: the exclusive
// upper bound of a prefix scan. nil means unbounded.
func succ(k []byte) []byte {
	out := append([]byte(nil), k...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] < 0xff {
			out[i]++
			return out[:i+1]
		}
	}
	return nil
}

// appendFloat appends f so that byte order is numeric order.
func appendFloat(b []byte, f float64) []byte {
	bits := math.Float64bits(f)
	if f >= 0 {
		bits ^= 1 << 63
	} else {
		bits = ^bits
	}
	return binary.BigEndian.AppendUint64(b, bits)
}

// decodeFloat reverses appendFloat on 8 bytes.
func decodeFloat(b []byte) float64 {
	bits := binary.BigEndian.Uint64(b)
	if bits&(1<<63) != 0 {
		bits ^= 1 << 63
	} else {
		bits = ^bits
	}
	return math.Float64frombits(bits)
}

// appendInstant appends t (Unix milliseconds) so that byte order is time order.
func appendInstant(b []byte, ms int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(ms)^(1<<63))
}

// decodeInstant reverses appendInstant on 8 bytes.
func decodeInstant(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
}

// Bounds of open intervals (a Period without end…), in Unix milliseconds.
const (
	minInstant int64 = math.MinInt64
	maxInstant int64 = math.MaxInt64
)

// intervalKeys returns the two keys of the interval [low, high].
func intervalKeys(low, high int64) [][]byte {
	l := appendInstant(appendInstant([]byte{tagLow}, low), high)
	h := appendInstant(appendInstant([]byte{tagHigh}, high), low)
	return [][]byte{l, h}
}

// normalize folds s for string search: lower case, accents removed, spaces
// collapsed ("Hélène  Dupont" → "helene dupont").
func normalize(s string) string {
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	space := false
	for _, r := range d {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		case r == 0:
			continue
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimRight(b.String(), " ")
}

// parseFHIRTime parses a FHIR date, dateTime or instant and returns the interval it
// stands for, in Unix milliseconds, inclusive: "2020" is 2020-01-01T00:00:00.000 ..
// 2020-12-31T23:59:59.999. A value without a time zone is taken as UTC.
func parseFHIRTime(s string) (low, high int64, ok bool) {
	layouts := []struct {
		layout string
		step   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02T15Z07:00", func(t time.Time) time.Time { return t.Add(time.Hour) }},
	}
	for _, l := range layouts {
		if len(s) > len(l.layout)+6 {
			continue
		}
		if t, err := time.Parse(l.layout, s); err == nil {
			return t.UnixMilli(), l.step(t).UnixMilli() - 1, true
		}
	}
	// Seconds, with or without a fraction and zone: precision is the written one.
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		step := time.Second
		if i := strings.IndexByte(s, '.'); i >= 0 {
			digits := 0
			for _, c := range s[i+1:] {
				if c < '0' || c > '9' {
					break
				}
				digits++
			}
			step = time.Second
			for ; digits > 0 && step > time.Millisecond; digits-- {
				step /= 10
			}
		}
		lo := t.UnixMilli()
		hi := t.Truncate(step).Add(step).UnixMilli() - 1
		if hi < lo {
			hi = lo
		}
		return lo, hi, true
	}
	return 0, 0, false
}
