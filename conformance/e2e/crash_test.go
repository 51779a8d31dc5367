package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// crashSystem is the identifier system of everything the crash test writes.
const crashSystem = "urn:aitgw:test:crash"

// crashLedger records what the gateway acknowledged before it was killed.
type crashLedger struct {
	mu sync.Mutex
	// versions: "Type/id" -> acknowledged versionId -> marker (Patient.name.given).
	versions map[string]map[string]string
	// idents: "Type|identifier value" -> id, for every acknowledged create.
	idents map[string]string
	// txLinks: Observation id -> Patient id, for acknowledged transactions.
	txLinks map[string]string
	// unansweredTx: identifier values of transactions that got no answer.
	unansweredTx []string
	// rejectedTx: identifier values of transactions that must never be stored.
	rejectedTx []string
	acked      atomic.Int64
}

func (l *crashLedger) version(typ, id, version, marker string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := typ + "/" + id
	if l.versions[k] == nil {
		l.versions[k] = map[string]string{}
	}
	l.versions[k][version] = marker
	l.acked.Add(1)
}

func (l *crashLedger) ident(typ, value, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.idents[typ+"|"+value] = id
}

// crashPatient is a small Patient whose given name carries a marker that tells which
// write produced which version.
func crashPatient(id, ident, marker string) []byte {
	p := map[string]any{
		"resourceType": "Patient",
		"identifier":   []any{map[string]any{"system": crashSystem, "value": ident}},
		"name":         []any{map[string]any{"family": "Crash", "given": []any{marker}}},
		"birthDate":    "1961-07-14",
	}
	if id != "" {
		p["id"] = id
	}
	b, _ := json.Marshal(p)
	return b
}

// crashTx is a transaction of a Patient and an Observation referencing it by
// urn:uuid. When broken, a third entry has an id that disagrees with its URL, so the
// whole transaction must be refused and nothing of it stored.
func crashTx(ident string, broken bool) []byte {
	pid := "urn:uuid:" + uuidFor(ident, 1)
	entries := []any{
		map[string]any{"fullUrl": pid, "resource": json.RawMessage(crashPatient("", ident, "tx")),
			"request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"fullUrl": "urn:uuid:" + uuidFor(ident, 2), "resource": map[string]any{
			"resourceType": "Observation", "status": "final",
			"identifier":   []any{map[string]any{"system": crashSystem, "value": ident}},
			"code":         map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "72514-3"}}},
			"subject":      map[string]any{"reference": pid},
			"valueInteger": 4,
		}, "request": map[string]any{"method": "POST", "url": "Observation"}},
	}
	if broken {
		entries = append(entries, map[string]any{
			"resource": map[string]any{"resourceType": "Patient", "id": "crash-a"},
			"request":  map[string]any{"method": "PUT", "url": "Patient/crash-b"}})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	return b
}

// uuidFor derives a distinct, well-formed UUID from an identifier value.
func uuidFor(ident string, n int) string {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(ident) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), n&0xfff, uint16(h>>48)&0xfff, h&0xffffffffffff)
}

// TestCrashSafety writes concurrently (creates, updates, good and broken
// transactions), SIGKILLs the gateway mid-flight, restarts it on the same data
// directory and checks that every acknowledged write is there with its history and
// index entries, and that no transaction is half-written.
func TestCrashSafety(t *testing.T) {
	dataDir := t.TempDir()
	g, err := Start(context.Background(), binary, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	c := g.Client()
	c.HTTP.Timeout = 10 * time.Second
	l := &crashLedger{versions: map[string]map[string]string{}, idents: map[string]string{}, txLinks: map[string]string{}}

	var wg sync.WaitGroup
	const writers = 4
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 100000; i++ { // bounded; ends at the kill
				if !crashWrite(c, l, w, i) {
					return
				}
			}
		}(w)
	}
	deadline := time.Now().Add(10 * time.Second)
	time.Sleep(1500 * time.Millisecond)
	for l.acked.Load() < 40 && time.Now().Before(deadline) && !g.Exited() {
		time.Sleep(100 * time.Millisecond)
	}
	g.Kill() // mid-flight: writers are still sending
	wg.Wait()
	if l.acked.Load() < 40 {
		t.Fatalf("only %d writes acknowledged before the kill; log:\n%s", l.acked.Load(), g.Logs())
	}

	g2, err := Start(context.Background(), binary, dataDir)
	if err != nil {
		t.Fatalf("restart on the same data dir after SIGKILL: %v", err)
	}
	defer g2.Stop()
	c = g2.Client()
	checkCrashLedger(t, c, l)
	t.Logf("crash safety: %d acknowledged versions of %d resources checked, %d acknowledged transactions, %d unanswered transactions all-or-nothing, %d refused transactions absent",
		l.acked.Load(), len(l.versions), len(l.txLinks), len(l.unansweredTx), len(l.rejectedTx))

	resp, err := c.Do(http.MethodPost, "Patient", crashPatient("", "after-restart", "after"), nil)
	if err != nil || resp.Status != http.StatusCreated {
		t.Errorf("create after restart: %v %v", err, resp)
	}
}

// crashWrite performs the i-th write of writer w and records what was acknowledged.
// It returns false once the gateway stops answering.
func crashWrite(c *Client, l *crashLedger, w, i int) bool {
	ident := fmt.Sprintf("w%d-%d", w, i)
	switch i % 4 {
	case 0, 1: // create, then update the same Patient
		resp, err := c.Do(http.MethodPost, "Patient", crashPatient("", ident, "v1-"+ident), nil)
		if err != nil {
			return false
		}
		if resp.Status != http.StatusCreated {
			return true // refused: nothing to expect; the verifier sees no ident
		}
		id := IDFromLocation(resp.Header.Get("Location"))
		l.version("Patient", id, "1", "v1-"+ident)
		l.ident("Patient", ident, id)
		resp, err = c.Do(http.MethodPut, "Patient/"+id, crashPatient(id, ident, "v2-"+ident), nil)
		if err != nil {
			return false
		}
		if resp.Status == http.StatusOK {
			l.version("Patient", id, VersionFromETag(resp.Header.Get("ETag")), "v2-"+ident)
		}
	case 2, 3: // transaction; every other one is broken and must leave nothing
		broken := i%4 == 3
		resp, err := c.Do(http.MethodPost, "", crashTx(ident, broken), nil)
		l.mu.Lock()
		if broken {
			l.rejectedTx = append(l.rejectedTx, ident)
		} else if err != nil {
			l.unansweredTx = append(l.unansweredTx, ident)
		}
		l.mu.Unlock()
		if err != nil {
			return false
		}
		if broken {
			return true
		}
		var b Bundle
		if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &b) != nil || len(b.Entry) != 2 ||
			b.Entry[0].Response == nil || b.Entry[1].Response == nil {
			// Not a proper transaction-response: still all or nothing.
			l.mu.Lock()
			l.unansweredTx = append(l.unansweredTx, ident)
			l.mu.Unlock()
			return true
		}
		pid := IDFromLocation(b.Entry[0].Response.Location)
		oid := IDFromLocation(b.Entry[1].Response.Location)
		l.version("Patient", pid, VersionFromETag(b.Entry[0].Response.Etag), "tx")
		l.version("Observation", oid, VersionFromETag(b.Entry[1].Response.Etag), "")
		l.ident("Patient", ident, pid)
		l.ident("Observation", ident, oid)
		l.mu.Lock()
		l.txLinks[oid] = pid
		l.mu.Unlock()
	}
	return true
}

// checkCrashLedger verifies the restarted gateway against what was acknowledged.
func checkCrashLedger(t *testing.T, c *Client, l *crashLedger) {
	t.Helper()
	for key, versions := range l.versions {
		resp, err := c.Do(http.MethodGet, key, nil, nil)
		if err != nil || resp.Status != http.StatusOK {
			t.Errorf("GET %s after restart: want 200, got %v %v", key, err, resp)
			continue
		}
		hist, err := c.Do(http.MethodGet, key+"/_history", nil, nil)
		var hb Bundle
		if err != nil || hist.Status != http.StatusOK || json.Unmarshal(hist.Body, &hb) != nil {
			t.Errorf("GET %s/_history after restart: %v %v", key, err, hist)
			continue
		}
		inHistory := map[string]bool{}
		for _, e := range hb.Entry {
			var r struct {
				Meta struct {
					VersionID string `json:"versionId"`
				} `json:"meta"`
			}
			if json.Unmarshal(e.Resource, &r) == nil {
				inHistory[r.Meta.VersionID] = true
			}
		}
		for v, marker := range versions {
			if !inHistory[v] {
				t.Errorf("GET %s/_history: acknowledged version %s missing", key, v)
			}
			vr, err := c.Do(http.MethodGet, key+"/_history/"+v, nil, nil)
			if err != nil || vr.Status != http.StatusOK {
				t.Errorf("GET %s/_history/%s: acknowledged version lost: %v %v", key, v, err, vr)
				continue
			}
			if marker != "" {
				var p struct {
					Name []struct {
						Given []string `json:"given"`
					} `json:"name"`
				}
				if json.Unmarshal(vr.Body, &p) != nil || len(p.Name) == 0 || len(p.Name[0].Given) == 0 || p.Name[0].Given[0] != marker {
					t.Errorf("GET %s/_history/%s: content is not the acknowledged one (want given %q): %s", key, v, marker, vr)
				}
			}
		}
	}
	for key, id := range l.idents {
		typ, value := splitKey(key)
		ids, err := c.SearchAll(typ+"?identifier="+url.QueryEscape(crashSystem+"|"+value), typ, 5)
		if err != nil || len(ids) != 1 || ids[0] != id {
			t.Errorf("GET %s?identifier=%s|%s: want [%s] (index entry of an acknowledged write), got %v %v", typ, crashSystem, value, id, ids, err)
		}
	}
	for oid, pid := range l.txLinks {
		resp, err := c.Do(http.MethodGet, "Observation/"+oid, nil, nil)
		var o struct {
			Subject struct {
				Reference string `json:"reference"`
			} `json:"subject"`
		}
		if err != nil || resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &o) != nil || o.Subject.Reference != "Patient/"+pid {
			t.Errorf("Observation/%s: subject must reference Patient/%s after urn:uuid resolution: %v %v", oid, pid, err, resp)
		}
	}
	for _, ident := range l.unansweredTx {
		np := countByIdent(t, c, "Patient", ident)
		no := countByIdent(t, c, "Observation", ident)
		if np != no || np > 1 {
			t.Errorf("unanswered transaction %s half-written: %d Patient, %d Observation", ident, np, no)
		}
	}
	for _, ident := range l.rejectedTx {
		if n := countByIdent(t, c, "Patient", ident) + countByIdent(t, c, "Observation", ident); n != 0 {
			t.Errorf("refused transaction %s left %d resources behind", ident, n)
		}
	}
}

func countByIdent(t *testing.T, c *Client, typ, ident string) int {
	t.Helper()
	ids, err := c.SearchAll(typ+"?identifier="+url.QueryEscape(crashSystem+"|"+ident), typ, 5)
	if err != nil {
		t.Errorf("search %s by identifier %s: %v", typ, ident, err)
	}
	return len(ids)
}

func splitKey(k string) (string, string) {
	for i := 0; i < len(k); i++ {
		if k[i] == '|' {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}
