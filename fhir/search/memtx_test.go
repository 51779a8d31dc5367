package search

import (
	"bytes"
	"sort"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// memTx is an in-memory fhir.Tx for the tests: current versions only, and per
// (type, param) a sorted list of index rows, scanned as store.go documents.
type memTx struct {
	recs  map[string]map[string]*fhir.Record
	index map[string][]row             // type \x00 param → rows sorted by key, id
	byRes map[string][]fhir.IndexEntry // type/id → entries
}

type row struct {
	key []byte
	id  string
}

func newMemTx() *memTx {
	return &memTx{recs: map[string]map[string]*fhir.Record{}, index: map[string][]row{}, byRes: map[string][]fhir.IndexEntry{}}
}

func (m *memTx) Current(typ, id string) (*fhir.Record, error) {
	if r, ok := m.recs[typ][id]; ok {
		return r, nil
	}
	return nil, fhir.ErrNotFound
}

func (m *memTx) Version(typ, id string, v int64) (*fhir.Record, error) {
	if r, ok := m.recs[typ][id]; ok && r.Version == v {
		return r, nil
	}
	return nil, fhir.ErrNotFound
}

func (m *memTx) History(fhir.HistoryFilter, func(*fhir.Record) bool) error { return nil }

func (m *memTx) Put(rec *fhir.Record, index []fhir.IndexEntry) error {
	if m.recs[rec.Type] == nil {
		m.recs[rec.Type] = map[string]*fhir.Record{}
	}
	m.recs[rec.Type][rec.ID] = rec
	// drop the previous rows of the resource
	for _, e := range m.byRes[rec.Type+"/"+rec.ID] {
		k := rec.Type + "\x00" + e.Param
		rows := m.index[k][:0]
		for _, r := range m.index[k] {
			if r.id != rec.ID || !bytes.Equal(r.key, e.Key) {
				rows = append(rows, r)
			}
		}
		m.index[k] = rows
	}
	m.byRes[rec.Type+"/"+rec.ID] = index
	for _, e := range index {
		k := rec.Type + "\x00" + e.Param
		m.index[k] = append(m.index[k], row{e.Key, rec.ID})
		sort.Slice(m.index[k], func(i, j int) bool {
			a, b := m.index[k][i], m.index[k][j]
			if c := bytes.Compare(a.key, b.key); c != 0 {
				return c < 0
			}
			return a.id < b.id
		})
	}
	return nil
}

func (m *memTx) ScanIndex(typ, param string, from, to []byte, fn func([]byte, string) bool) error {
	for _, r := range m.index[typ+"\x00"+param] {
		if from != nil && bytes.Compare(r.key, from) < 0 {
			continue
		}
		if to != nil && bytes.Compare(r.key, to) >= 0 {
			break
		}
		if !fn(r.key, r.id) {
			break
		}
	}
	return nil
}

func (m *memTx) Index(typ, id string) ([]fhir.IndexEntry, error) {
	if _, ok := m.recs[typ][id]; !ok {
		return nil, fhir.ErrNotFound
	}
	return m.byRes[typ+"/"+id], nil
}

func (m *memTx) ScanType(typ string, fn func(*fhir.Record) bool) error {
	ids := make([]string, 0, len(m.recs[typ]))
	for id, r := range m.recs[typ] {
		if !r.Deleted {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !fn(m.recs[typ][id]) {
			break
		}
	}
	return nil
}

func (m *memTx) Count(typ string) (int, error) {
	n := 0
	return n, m.ScanType(typ, func(*fhir.Record) bool { n++; return true })
}

func (m *memTx) GetAux(string, string) ([]byte, error) { return nil, nil }
func (m *memTx) PutAux(string, string, []byte) error   { return nil }

var _ fhir.Tx = (*memTx)(nil)

// seed stores body (a JSON object with resourceType and id) as version 1, stamped
// and indexed the way the server does it.
func seed(t testing.TB, r *Registry, tx fhir.Tx, at time.Time, body string) {
	t.Helper()
	res, ferr := fhir.ParseResource([]byte(body))
	if ferr != nil {
		t.Fatalf("seed: %v in %s", ferr, body)
	}
	stamped, err := fhir.Stamp(res.Body, res.ID, 1, at)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := r.Index(res.Type, stamped)
	if err != nil {
		t.Fatalf("index %s/%s: %v", res.Type, res.ID, err)
	}
	rec := &fhir.Record{Type: res.Type, ID: res.ID, Version: 1, LastUpdated: at, Method: "PUT", Body: stamped}
	if err := tx.Put(rec, entries); err != nil {
		t.Fatal(err)
	}
}
