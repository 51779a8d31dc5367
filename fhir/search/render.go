package search

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/buger/jsonparser"
)

//go:embed summary.json.gz
var summaryGz []byte

// elementSets are the top-level elements of one resource type flagged isSummary and
// with min > 0 in the R4 StructureDefinitions.
type elementSets struct {
	Summary   []string `json:"summary"`
	Mandatory []string `json:"mandatory"`
}

var (
	summaryOnce sync.Once
	summaryMap  map[string]elementSets
)

// summaryElements returns the element sets of typ (loaded once from the embedded list).
func summaryElements(typ string) elementSets {
	summaryOnce.Do(func() {
		summaryMap = map[string]elementSets{}
		zr, err := gzip.NewReader(bytes.NewReader(summaryGz))
		if err != nil {
			return
		}
		if raw, err := io.ReadAll(zr); err == nil {
			_ = json.Unmarshal(raw, &summaryMap) // embedded, generated: checked by tests
		}
	})
	return summaryMap[typ]
}

// subsetted is the meta.tag a server adds to a resource it did not return whole.
const subsetted = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED","display":"Resource encoded in summary mode"}`

// Elements renders body for _elements: resourceType, id, meta and the listed
// top-level elements only (a choice element "value" keeps valueQuantity…, and the
// "_x" primitive extensions follow their element), tagged SUBSETTED. Member order
// and content are kept byte for byte.
func Elements(body []byte, elements []string) []byte {
	want := map[string]bool{}
	for _, e := range elements {
		want[strings.TrimSpace(e)] = true
	}
	return subset(body, func(name string) bool { return keepChoice(want, name) })
}

// Summary renders body for _summary: "true" keeps the isSummary elements of the type,
// "text" keeps text, id, meta and the mandatory elements, "data" removes text;
// "false", "count" and "" return body unchanged.
func Summary(body []byte, mode string) []byte {
	typ, _ := jsonparser.GetString(body, "resourceType")
	switch mode {
	case "true":
		want := map[string]bool{}
		for _, e := range summaryElements(typ).Summary {
			want[e] = true
		}
		return subset(body, func(name string) bool { return keepChoice(want, name) })
	case "text":
		want := map[string]bool{"text": true}
		for _, e := range summaryElements(typ).Mandatory {
			want[e] = true
		}
		return subset(body, func(name string) bool { return keepChoice(want, name) })
	case "data":
		return subset(body, func(name string) bool { return name != "text" && name != "_text" })
	}
	return body
}

// keepChoice reports whether member name is in want, directly, as a choice type
// (valueQuantity for value) or as a primitive extension (_birthDate).
func keepChoice(want map[string]bool, name string) bool {
	name = strings.TrimPrefix(name, "_")
	if want[name] {
		return true
	}
	for i := 1; i < len(name); i++ {
		if name[i] >= 'A' && name[i] <= 'Z' && want[name[:i]] {
			return true
		}
	}
	return false
}

// subset keeps resourceType, id, meta and the members keep accepts, adding the
// SUBSETTED tag to meta. Malformed input is returned unchanged.
func subset(body []byte, keep func(string) bool) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first, hasMeta := true, false
	write := func(k, v []byte) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteByte('"')
		b.Write(k)
		b.WriteString(`":`)
		b.Write(v)
	}
	err := jsonparser.ObjectEach(body, func(k, v []byte, t jsonparser.ValueType, _ int) error {
		name := string(k)
		if t == jsonparser.String { // jsonparser hands strings still escaped, unquoted
			v = append(append([]byte{'"'}, v...), '"')
		}
		switch {
		case name == "meta":
			hasMeta = true
			write(k, tagged(v))
		case name == "resourceType" || name == "id" || keep(name):
			write(k, v)
		}
		return nil
	})
	if err != nil {
		return body
	}
	if !hasMeta {
		write([]byte("meta"), []byte(`{"tag":[`+subsetted+`]}`))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// tagged adds the SUBSETTED tag to a meta object.
func tagged(meta []byte) []byte {
	tags, t, _, err := jsonparser.Get(meta, "tag")
	if err == nil && t == jsonparser.Array {
		if bytes.Contains(tags, []byte(`"SUBSETTED"`)) {
			return meta
		}
		inner := bytes.TrimSpace(tags[1 : len(tags)-1])
		sep := ","
		if len(inner) == 0 {
			sep = ""
		}
		out, err := jsonparser.Set(meta, []byte("["+string(inner)+sep+subsetted+"]"), "tag")
		if err != nil {
			return meta
		}
		return out
	}
	out, err := jsonparser.Set(meta, []byte("["+subsetted+"]"), "tag")
	if err != nil {
		return meta
	}
	return out
}
