package fhir

import (
	"bytes"
	"encoding/json"
	"testing"
)

// referenceFields is the slow, obviously right split: encoding/json's token stream.
func referenceFields(body []byte) ([]string, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	var keys, vals []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k.(string)), append(vals, string(v))
	}
	return keys, vals, nil
}

func checkFields(t *testing.T, body []byte) {
	fl, err := objectFields(body)
	keys, vals, rerr := referenceFields(body)
	if (err != nil) != (rerr != nil || !json.Valid(body) || bytes.TrimSpace(body)[0] != '{') {
		t.Fatalf("%q: error %v, reference %v", body, err, rerr)
	}
	if err != nil {
		return
	}
	if len(fl.keys) != len(keys) {
		t.Fatalf("%q: %d members, want %d", body, len(fl.keys), len(keys))
	}
	for i := range keys {
		if fl.keys[i] != keys[i] || string(fl.vals[i]) != vals[i] {
			t.Fatalf("%q member %d: %q=%s, want %q=%s", body, i, fl.keys[i], fl.vals[i], keys[i], vals[i])
		}
	}
}

func TestObjectFieldsAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a" : "x\"}{,]" , "b":[1,{"c":"]"}], "d":null,"e":true,"f":-1.50e3}`,
		`{"k\u00e9y\n":{"x":{"y":[[],{}]}},"z":"\\"}`, "{\n \"a\":\n [ 1 , 2 ]\n}\n", `{"a":"\u0022"}`,
	} {
		checkFields(t, []byte(c))
	}
}

func FuzzObjectFields(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","name":[{"family":"O\"Neil"}],"x":1.0}`))
	f.Add([]byte(`{"a":{"b":"}"},"c":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) || len(bytes.TrimSpace(body)) == 0 || bytes.TrimSpace(body)[0] != '{' {
			return
		}
		checkFields(t, body)
	})
}

func TestSplitArrayAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range []string{`[]`, `[ ]`, `[1]`, `[ "a,]" , {"b":[1,2]}, [], null, -2.5e1 ]`, "[\n{\"x\":\"\\\"]\"}\n]"} {
		var want []json.RawMessage
		if err := json.Unmarshal([]byte(c), &want); err != nil {
			t.Fatal(err)
		}
		got := splitArray([]byte(c))
		if len(got) != len(want) {
			t.Fatalf("%q: %d items, want %d", c, len(got), len(want))
		}
		for i := range want {
			if string(got[i]) != string(want[i]) {
				t.Fatalf("%q item %d: %s, want %s", c, i, got[i], want[i])
			}
		}
	}
}
