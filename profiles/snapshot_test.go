package profiles

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"testing"
)

type snapElement struct {
	ID        string `json:"id"`
	Min       *int   `json:"min"`
	Max       string `json:"max"`
	SliceName string `json:"sliceName"`
}

// TestGenerateSnapshotGuide: every profile of the AIT guide (differentials only) gets a
// snapshot holding each differential element with the differential's cardinality,
// after its parent.
func TestGenerateSnapshotGuide(t *testing.T) {
	p := testValidator(t).Package()
	byURL := map[string][]byte{}
	n := 0
	var gen func(url string) []byte
	gen = func(url string) []byte {
		if b, ok := byURL[url]; ok {
			return b
		}
		r, ok := p.ByURL(url)
		if !ok {
			return nil
		}
		b, err := GenerateSnapshot(r.Body, gen)
		if err != nil {
			t.Errorf("%s: %v", url, err)
			return nil
		}
		byURL[url] = b
		return b
	}
	for _, r := range p.Resources() {
		if r.Type != "StructureDefinition" || r.Example {
			continue
		}
		b := gen(r.URL)
		if b == nil {
			continue
		}
		n++
		var sd struct {
			Differential, Snapshot struct{ Element []snapElement }
		}
		json.Unmarshal(b, &sd)
		at := map[string]int{}
		for i, e := range sd.Snapshot.Element {
			if _, dup := at[e.ID]; dup {
				t.Errorf("%s: element %s twice in the snapshot", r.ID, e.ID)
			}
			at[e.ID] = i
		}
		for _, d := range sd.Differential.Element {
			i, ok := at[d.ID]
			if !ok {
				t.Errorf("%s: differential element %s not in the snapshot", r.ID, d.ID)
				continue
			}
			s := sd.Snapshot.Element[i]
			if d.Min != nil && (s.Min == nil || *s.Min != *d.Min) || d.Max != "" && s.Max != d.Max {
				t.Errorf("%s: %s cardinality %v..%s, differential says %v..%s", r.ID, d.ID, deref(s.Min), s.Max, deref(d.Min), d.Max)
			}
			if j := strings.LastIndexAny(d.ID, ".:"); j > 0 {
				if pi, ok := at[d.ID[:j]]; ok && pi > i {
					t.Errorf("%s: %s comes before its parent", r.ID, d.ID)
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d snapshots generated", n)
	}
}

// TestGenerateSnapshotIPS: IPS profiles with their snapshot removed get one again;
// its elements agree in cardinality with the published snapshot's.
func TestGenerateSnapshotIPS(t *testing.T) {
	ipsValidator(t)
	f, err := os.Open(ips.tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	tr := tar.NewReader(zr)
	published := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if path.Dir(h.Name) != "package" || !strings.HasPrefix(path.Base(h.Name), "StructureDefinition-") {
			continue
		}
		b, _ := io.ReadAll(tr)
		var head struct{ URL, Kind, Derivation string }
		if json.Unmarshal(b, &head) == nil && head.Kind == "resource" && head.Derivation == "constraint" {
			published[head.URL] = b
		}
	}
	compared, agreed, generated := 0, 0, 0
	for url, b := range published {
		var doc map[string]any
		json.Unmarshal(b, &doc)
		orig, _ := json.Marshal(doc["snapshot"])
		delete(doc, "snapshot")
		stripped, _ := json.Marshal(doc)
		out, err := GenerateSnapshot(stripped, func(u string) []byte { return published[u] })
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		generated++
		var want struct{ Element []snapElement }
		json.Unmarshal(orig, &want)
		var got struct {
			Snapshot struct{ Element []snapElement }
		}
		json.Unmarshal(out, &got)
		wantByID := map[string]snapElement{}
		for _, e := range want.Element {
			wantByID[e.ID] = e
		}
		for _, e := range got.Snapshot.Element {
			w, ok := wantByID[e.ID]
			if !ok {
				continue
			}
			compared++
			if deref(e.Min) == deref(w.Min) && e.Max == w.Max {
				agreed++
			} else if len(wantByID) > 0 {
				t.Errorf("%s: %s generated %s..%s, published %s..%s", url, e.ID, deref(e.Min), e.Max, deref(w.Min), w.Max)
			}
		}
	}
	if generated < 20 || compared < 500 {
		t.Errorf("%d IPS snapshots generated, %d elements compared", generated, compared)
	}
	t.Logf("%d IPS snapshots generated; %d of %d elements in common agree in cardinality", generated, agreed, compared)
}

func deref(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}
