package storecodec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// The golden values below were produced by the encoders of fhir/bolt and fhir/redis
// before they were merged here: existing files and Redis data hold exactly these
// bytes, so any change is a format change.

// suiteTime is the storetest base time (nanoseconds kept).
var suiteTime = time.Date(2024, 3, 14, 9, 26, 53, 589793238, time.UTC)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordGolden(t *testing.T) {
	cases := []struct {
		rec  *fhir.Record
		want string
	}{
		{&fhir.Record{Type: "Patient", ID: "p", Version: 3, LastUpdated: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), Method: "PUT", Body: []byte(`{"a":1}`)},
			"008cc88980e6adb4a62f035055547b2261223a317d"},
		// A tombstone stores no body, whatever the caller sent.
		{&fhir.Record{Type: "Patient", ID: "p", Version: 4, LastUpdated: time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), Method: "DELETE", Deleted: true, Body: []byte(`{"x":1}`)},
			"01fdff878d84e7f3a73d0644454c455445"},
		{&fhir.Record{Type: "Patient", ID: "p", Version: 1, Body: []byte{}}, "0200"},
	}
	for _, c := range cases {
		got := EncodeRecord(c.rec)
		if hex.EncodeToString(got) != c.want {
			t.Errorf("EncodeRecord(%s v%d) = %x, want %s", c.rec.Method, c.rec.Version, got, c.want)
		}
		back, err := DecodeRecord(c.rec.Type, c.rec.ID, c.rec.Version, got)
		if err != nil {
			t.Fatal(err)
		}
		wantBody := c.rec.Body
		if c.rec.Deleted {
			wantBody = nil
		}
		if back.Type != c.rec.Type || back.ID != c.rec.ID || back.Version != c.rec.Version || back.Method != c.rec.Method ||
			back.Deleted != c.rec.Deleted || !back.LastUpdated.Equal(c.rec.LastUpdated) || !bytes.Equal(back.Body, wantBody) ||
			(c.rec.Deleted != (back.Body == nil)) || back.LastUpdated.Location() != time.UTC {
			t.Errorf("round trip of %+v gave %+v", c.rec, back)
		}
	}
}

func TestDecodeRecordDoesNotAlias(t *testing.T) {
	v := EncodeRecord(&fhir.Record{LastUpdated: suiteTime, Method: "POST", Body: []byte(`{"a":1}`)})
	r, err := DecodeRecord("Patient", "p", 1, v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		v[i] = 'X'
	}
	if string(r.Body) != `{"a":1}` || r.Method != "POST" {
		t.Fatalf("decoded record changed with the buffer: %q %q", r.Method, r.Body)
	}
}

func TestCorruptInputsAreErrors(t *testing.T) {
	for _, v := range [][]byte{nil, {0, 0x80}, {2, 5, 'a'}, {0}} {
		if _, err := DecodeRecord("Patient", "p", 1, v); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeRecord(%x): %v, want ErrCorrupt", v, err)
		}
	}
	if _, err := DecodeEntries([]byte{4, 'n', 'a'}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated entry list: %v", err)
	}
	if _, err := ParseCurrentState([]byte{1, 2}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short state: %v", err)
	}
	for _, m := range []string{"abc", "a\x00", "a\x00\x02id"} {
		if _, _, err := ParseIndexMember(m); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ParseIndexMember(%q): %v", m, err)
		}
	}
	if _, _, err := SplitVersionRef("id\x01\x00\x00\x00\x00\x00\x00\x00\x01"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ref without separator: %v", err)
	}
	if _, _, err := SplitResourceKey("Patient"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("resource key without separator: %v", err)
	}
	// Random bytes never panic.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.IntN(24))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		_, _ = DecodeRecord("T", "i", 1, b)
		_, _ = DecodeEntries(b)
		_, _, _ = ParseIndexMember(b)
		_, _, _ = SplitVersionRef(b)
	}
}

func TestCurrentStateGolden(t *testing.T) {
	cases := []struct {
		st   CurrentState
		want string
		live bool
	}{
		{CurrentState{Version: 7}, "000000000000000700", true},
		{CurrentState{Version: 258, Deleted: true}, "000000000000010201", false},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(c.st.Encode()); got != c.want {
			t.Errorf("%+v encodes to %s, want %s", c.st, got, c.want)
		}
		back, err := ParseCurrentState(unhex(t, c.want))
		if err != nil || back != c.st || back.Live() != c.live {
			t.Errorf("%s parses to %+v (live %v), %v", c.want, back, back.Live(), err)
		}
	}
	if (CurrentState{}).Live() {
		t.Errorf("a resource that never existed is live")
	}
}

func TestTimeKeyGoldenAndOrder(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "0000000000000000"},
		{suiteTime, "97bc9763d8dbe9d6"},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "61581863df2f0000"},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "ffffffffffffffff"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(AppendTimeKey(nil, c.t)); got != c.want {
			t.Errorf("AppendTimeKey(%s) = %s, want %s", c.t, got, c.want)
		}
	}
	times := []time.Time{time.Time{}, time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(-1, 0), time.Unix(0, 0), suiteTime, suiteTime.Add(1)}
	for i := 1; i < len(times); i++ {
		if bytes.Compare(AppendTimeKey(nil, times[i-1]), AppendTimeKey(nil, times[i])) >= 0 {
			t.Errorf("time key of %s does not sort before %s", times[i-1], times[i])
		}
	}
	stamp := AppendHistoryStamp([]byte("x"), suiteTime, 258)
	if got := hex.EncodeToString(stamp); got != "78"+"97bc9763d8dbe9d6"+"0000000000000102" || len(stamp)-1 != HistoryStampLen {
		t.Errorf("history stamp = %s", got)
	}
}

func TestVersionRef(t *testing.T) {
	// fhir/bolt's ver key of Patient/p1 version 258.
	ref := AppendVersionRef(nil, "Patient\x00p1", 258)
	if got := hex.EncodeToString(ref); got != "50617469656e74007031000000000000000102" {
		t.Fatalf("version ref = %s", got)
	}
	name, v, err := SplitVersionRef(string(ref))
	if err != nil || name != "Patient\x00p1" || v != 258 {
		t.Fatalf("SplitVersionRef = %q, %d, %v", name, v, err)
	}
	typ, id, err := SplitResourceKey(name)
	if err != nil || typ != "Patient" || id != "p1" {
		t.Fatalf("SplitResourceKey = %q, %q, %v", typ, id, err)
	}
	if _, v, _ := SplitVersionRef(AppendVersionRef(nil, "x", 1<<62+5)); v != 1<<62+5 {
		t.Fatalf("large version read back as %d", v)
	}
}

func TestIndexMemberGoldenAndOrder(t *testing.T) {
	// fhir/bolt's idx row of Patient name = 00 01 'a' FF 00 for id1.
	m := AppendIndexMember([]byte("Patient\x00name\x00"), []byte{0, 1, 'a', 0xFF, 0}, "id1")
	if got := hex.EncodeToString(m); got != "50617469656e74006e616d650000ff0161ff00ff0001696431" {
		t.Fatalf("index row = %s", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, 2, 'a', 0xFE, 0xFF}
	randKey := func() []byte {
		k := make([]byte, rng.IntN(5))
		for i := range k {
			k[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return k
	}
	for i := 0; i < 5000; i++ {
		a, b := randKey(), randKey()
		ma, mb := AppendIndexMember(nil, a, "id1"), AppendIndexMember(nil, b, "id1")
		if want, got := bytes.Compare(a, b), bytes.Compare(ma, mb); want != got {
			t.Fatalf("keys %q and %q compare %d but their members compare %d", a, b, want, got)
		}
		for _, in := range []any{ma, string(ma)} {
			var key []byte
			var id string
			var err error
			switch m := in.(type) {
			case []byte:
				key, id, err = ParseIndexMember(m)
			case string:
				key, id, err = ParseIndexMember(m)
			}
			if err != nil || !bytes.Equal(key, a) || id != "id1" {
				t.Fatalf("member of %q decodes to %q, %q, %v", a, key, id, err)
			}
		}
		// An escaped key alone is a range bound: below every member at or above it.
		if bytes.Compare(a, b) >= 0 && bytes.Compare(ma, AppendIndexKey(nil, b)) < 0 {
			t.Fatalf("member of %q sorts before the bound %q", a, b)
		}
	}
}

func TestEntriesGolden(t *testing.T) {
	entries := []fhir.IndexEntry{{Param: "name", Key: []byte{0, 1, 0xFF}}, {Param: "x", Key: []byte{}}}
	b := EncodeEntries(entries)
	if got := hex.EncodeToString(b); got != "046e616d65030001ff017800" {
		t.Fatalf("EncodeEntries = %s", got)
	}
	got, err := DecodeEntries(b)
	if err != nil || len(got) != 2 || got[0].Param != "name" || !bytes.Equal(got[0].Key, entries[0].Key) || got[1].Param != "x" || len(got[1].Key) != 0 {
		t.Fatalf("DecodeEntries = %+v, %v", got, err)
	}
	b[5] = 9
	if got[0].Key[0] != 0 {
		t.Fatalf("decoded entries alias the buffer")
	}
	if got, err := DecodeEntries(nil); err != nil || len(got) != 0 {
		t.Fatalf("empty list = %+v, %v", got, err)
	}
}

func TestCheckPut(t *testing.T) {
	live := &fhir.Record{Type: "Patient", ID: "p1", Version: 1}
	bad := map[string]struct {
		rec   *fhir.Record
		index []fhir.IndexEntry
	}{
		"nil record":        {nil, nil},
		"empty type":        {&fhir.Record{ID: "p1"}, nil},
		"NUL in type":       {&fhir.Record{Type: "Pat\x00ient", ID: "p1"}, nil},
		"empty id":          {&fhir.Record{Type: "Patient"}, nil},
		"NUL in id":         {&fhir.Record{Type: "Patient", ID: "a\x00b"}, nil},
		"empty parameter":   {live, []fhir.IndexEntry{{Param: "", Key: []byte("x")}}},
		"NUL in parameter":  {live, []fhir.IndexEntry{{Param: "na\x00me"}}},
		"tombstone, bad ix": {&fhir.Record{Type: "Patient", ID: "p1", Deleted: true}, []fhir.IndexEntry{{Param: ""}}},
	}
	for name, c := range bad {
		if _, err := CheckPut(c.rec, c.index); err == nil {
			t.Errorf("%s: CheckPut accepted it", name)
		}
	}
	in := []fhir.IndexEntry{{Param: "name", Key: []byte("b")}, {Param: "code", Key: []byte("z")}, {Param: "name", Key: []byte("a")}, {Param: "name", Key: []byte("b")}}
	got, err := CheckPut(live, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"code=z", "name=a", "name=b"}
	if len(got) != len(want) {
		t.Fatalf("CheckPut entries = %+v, want %v", got, want)
	}
	for i, e := range got {
		if e.Param+"="+string(e.Key) != want[i] {
			t.Fatalf("entry %d = %s=%s, want %s", i, e.Param, e.Key, want[i])
		}
	}
	in[0].Key[0] = 'Q'
	if string(got[2].Key) != "b" {
		t.Fatalf("CheckPut entries alias the caller's keys")
	}
	if got, err := CheckPut(&fhir.Record{Type: "Patient", ID: "p1", Deleted: true}, in); err != nil || got != nil {
		t.Fatalf("tombstone entries = %+v, %v; want none", got, err)
	}
}

func TestCheckNextVersion(t *testing.T) {
	r := &fhir.Record{Type: "Patient", ID: "p1", Version: 3}
	if err := CheckNextVersion(r, 2); err != nil {
		t.Fatalf("version 3 after 2: %v", err)
	}
	for _, cur := range []int64{0, 1, 3} {
		if err := CheckNextVersion(r, cur); !errors.Is(err, fhir.ErrConflict) {
			t.Errorf("version 3 after %d: %v, want ErrConflict", cur, err)
		}
	}
}

func TestInHistoryWindow(t *testing.T) {
	f := fhir.HistoryFilter{Since: suiteTime, At: suiteTime.Add(time.Second)}
	for when, want := range map[time.Time]bool{
		suiteTime.Add(-1):          false,
		suiteTime:                  true,
		suiteTime.Add(999999999):   true,
		suiteTime.Add(time.Second): false,
	} {
		if got := InHistoryWindow(f, when); got != want {
			t.Errorf("InHistoryWindow(%s) = %v, want %v", when, got, want)
		}
	}
	if !InHistoryWindow(fhir.HistoryFilter{}, time.Time{}) {
		t.Errorf("an unbounded window excludes a version")
	}
}

func TestCheckNamespace(t *testing.T) {
	if err := CheckNamespace(""); err != nil {
		t.Errorf("empty namespace: %v", err)
	}
	if err := CheckNamespace("a\x00b"); err == nil {
		t.Errorf("namespace with NUL accepted")
	}
}
