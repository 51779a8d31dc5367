package rest

import (
	"bytes"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// The stateless paging of $everything (everything.go): rows sorted by patient, type
// and id; the cursor is the snapshot time and the last row sent.

func rowKey(r evRow) string { return r.patient + "\x00" + r.rec.Type + "\x00" + r.rec.ID }

// afterCursor drops the rows up to and including the cursor position.
func afterCursor(rows []evRow, after [3]string) []evRow {
	if after == [3]string{} {
		return rows
	}
	k := strings.Join(after[:], "\x00")
	i := sort.Search(len(rows), func(i int) bool { return rowKey(rows[i]) > k })
	return rows[i:]
}

// encodeCursor renders the snapshot time and position as an opaque token.
func encodeCursor(at time.Time, after [3]string) string {
	raw := strconv.FormatInt(at.UnixNano(), 10) + "\x00" + strings.Join(after[:], "\x00")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(c string) (time.Time, [3]string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, [3]string{}, false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 4 {
		return time.Time{}, [3]string{}, false
	}
	ns, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || (parts[2] != "" && !fhir.IsResourceType(parts[2])) {
		return time.Time{}, [3]string{}, false
	}
	return time.Unix(0, ns).UTC(), [3]string{parts[1], parts[2], parts[3]}, true
}

// references reports whether body holds a literal reference to target ("Patient/x",
// relative or absolute).
func references(body []byte, target string) bool {
	found := false
	eachReference(body, func(typ, id string) {
		if typ+"/"+id == target {
			found = true
		}
	})
	return found
}

var referenceKey = []byte(`"reference"`)

// eachReference calls fn for every literal reference "Type/id" (relative or absolute,
// version suffix dropped) in body. It scans the bytes rather than decoding them: it
// runs on every resource of an $everything.
func eachReference(body []byte, fn func(typ, id string)) {
	for {
		i := bytes.Index(body, referenceKey)
		if i < 0 {
			return
		}
		body = bytes.TrimLeft(body[i+len(referenceKey):], " \t\r\n")
		if len(body) == 0 || body[0] != ':' {
			continue
		}
		body = bytes.TrimLeft(body[1:], " \t\r\n")
		if len(body) == 0 || body[0] != '"' {
			continue
		}
		end := bytes.IndexByte(body[1:], '"')
		if end < 0 {
			return
		}
		ref := string(body[1 : 1+end])
		body = body[1+end:]
		if h := strings.Index(ref, "/_history/"); h >= 0 {
			ref = ref[:h]
		}
		parts := strings.Split(ref, "/")
		if len(parts) >= 2 && fhir.IsResourceType(parts[len(parts)-2]) && fhir.ValidID(parts[len(parts)-1]) {
			fn(parts[len(parts)-2], parts[len(parts)-1])
		}
	}
}
