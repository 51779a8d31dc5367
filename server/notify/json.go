package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// setMembers is fhir.SetMembers with pairs, as the notifier writes them.
func setMembers(body []byte, set [][2]any, del ...string) ([]byte, error) {
	ms := make([]fhir.Member, len(set))
	for i, kv := range set {
		ms[i] = fhir.Member{Key: kv[0].(string), Value: kv[1]}
	}
	return fhir.SetMembers(body, ms, del...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// newID returns a random UUID (valid as a FHIR id and in urn:uuid).
func newID() string { return rest.NewID() }

// contentID derives a stable id from parts, so that the same milestone told twice
// to the same recipient yields the same Communication (and re-running a transaction
// function writes the same thing).
func contentID(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + hex.EncodeToString(h[:16])
}

// splitRef splits "Type/id" (a relative reference, or the tail of an absolute one).
func splitRef(ref string) (typ, id string, ok bool) {
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if len(parts) < 2 {
		return "", "", false
	}
	typ, id = parts[len(parts)-2], parts[len(parts)-1]
	return typ, id, typ != "" && id != ""
}
