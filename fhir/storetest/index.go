package storetest

import (
	"testing"

	"github.com/aitgw/aitgw/fhir"
)

// indexKeys are keys that trip naive encodings: empty, NUL and 0xFF bytes, prefixes.
// Listed in byte order, each on its own resource (id = position).
var indexKeys = []string{"", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "\xff", "\xff\xff"}

func indexFixture(t *testing.T, s fhir.Store) {
	// Written in reverse so that insertion order is not key order.
	for i := len(indexKeys) - 1; i >= 0; i-- {
		id := string(rune('a' + i))
		putIndexed(t, s, []fhir.IndexEntry{entry("name", indexKeys[i])}, rec("Patient", id, 1, at(1)))
	}
}

func keyLabels(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, quoteKey(indexKeys[i])+"|"+string(rune('a'+i)))
	}
	return out
}

func quoteKey(k string) string { return fmtQ([]byte(k)) }

func testScanIndexOrderAndBounds(t *testing.T, s fhir.Store) {
	indexFixture(t, s)
	n := len(indexKeys)
	b := func(s string) []byte { return []byte(s) }
	cases := []struct {
		name     string
		from, to []byte
		want     []string
	}{
		{"unbounded", nil, nil, keyLabels(0, n)},
		{"from empty key", b(""), nil, keyLabels(0, n)},
		{"from a\\x00", b("a\x00"), nil, keyLabels(2, n)},
		{"to a\\x00 exclusive", nil, b("a\x00"), keyLabels(0, 2)},
		{"a\\x00 to ab", b("a\x00"), b("ab"), keyLabels(2, 5)},
		{"prefix a", b("a"), b("b"), keyLabels(1, 6)},
		{"between keys", b("a\x00c"), b("aa"), keyLabels(4, 5)},
		{"0xff and beyond", b("\xff"), nil, keyLabels(7, n)},
		{"empty range", b("b"), b("b"), nil},
		{"inverted range", b("b"), b("a"), nil},
	}
	for _, c := range cases {
		equalLists(t, c.name, scan(t, s, "Patient", "name", c.from, c.to), c.want)
	}
	// Several ids under one key come in id order.
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "ab")}, rec("Patient", "aa", 1, at(2)), rec("Patient", "g0", 1, at(2)))
	equalLists(t, "ids under one key", scan(t, s, "Patient", "name", b("ab"), b("ab\x00")),
		[]string{`"ab"|aa`, `"ab"|f`, `"ab"|g0`})
	var got int
	view(t, s, func(tx fhir.Tx) error {
		got = 0
		return tx.ScanIndex("Patient", "name", nil, nil, func([]byte, string) bool { got++; return got < 3 })
	})
	if got != 3 {
		t.Fatalf("ScanIndex called fn %d times after it returned false at 3", got)
	}
}

func testScanIndexIsolation(t *testing.T, s fhir.Store) {
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "x"), entry("name2", "x"), entry("nam", "ex")},
		rec("Patient", "p1", 1, at(1)))
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "y")}, rec("Practitioner", "p2", 1, at(1)))
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "z")}, rec("Patien", "p3", 1, at(1)))
	equalLists(t, "Patient name", scan(t, s, "Patient", "name", nil, nil), []string{`"x"|p1`})
	equalLists(t, "Patient nam", scan(t, s, "Patient", "nam", nil, nil), []string{`"ex"|p1`})
	equalLists(t, "Patient name2", scan(t, s, "Patient", "name2", nil, nil), []string{`"x"|p1`})
	equalLists(t, "Practitioner name", scan(t, s, "Practitioner", "name", nil, nil), []string{`"y"|p2`})
	equalLists(t, "unknown param", scan(t, s, "Patient", "birthdate", nil, nil), nil)
	equalLists(t, "unknown type", scan(t, s, "Encounter", "name", nil, nil), nil)
}

func testIndexReplacedOnUpdate(t *testing.T, s fhir.Store) {
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "smith"), entry("name", "john"), entry("name", "john"),
		entry("gender", "male")}, rec("Patient", "p1", 1, at(1)))
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "smith")}, rec("Patient", "p2", 1, at(1)))
	view(t, s, func(tx fhir.Tx) error {
		idx, err := tx.Index("Patient", "p1")
		if err != nil {
			t.Fatalf("Index: %v", err)
		}
		var got []string
		for _, e := range idx {
			got = append(got, e.Param+"="+fmtQ(e.Key))
		}
		equalLists(t, "Index(Patient, p1)", got, []string{`gender="male"`, `name="john"`, `name="smith"`})
		idx, err = tx.Index("Patient", "unknown")
		if err != nil || len(idx) != 0 {
			t.Fatalf("Index of unknown resource = %v, %v; want none", idx, err)
		}
		return nil
	})
	putIndexed(t, s, []fhir.IndexEntry{entry("name", "smyth"), entry("birthdate", "1970")}, rec("Patient", "p1", 2, at(2)))
	equalLists(t, "name after update", scan(t, s, "Patient", "name", nil, nil),
		[]string{`"smith"|p2`, `"smyth"|p1`})
	equalLists(t, "gender after update", scan(t, s, "Patient", "gender", nil, nil), nil)
	equalLists(t, "birthdate after update", scan(t, s, "Patient", "birthdate", nil, nil), []string{`"1970"|p1`})
	put(t, s, rec("Patient", "p1", 3, at(3))) // an update with no index entries clears them
	equalLists(t, "name after clearing", scan(t, s, "Patient", "name", nil, nil), []string{`"smith"|p2`})
	equalLists(t, "birthdate after clearing", scan(t, s, "Patient", "birthdate", nil, nil), nil)
}
