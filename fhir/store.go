package fhir

import (
	"bytes"
	"cmp"
	"context"
	"strings"
	"time"
)

// Record is one stored version of a resource. Body is the JSON exactly as it was
// submitted, with only id, meta.versionId and meta.lastUpdated set by the server; it is
// nil for a deletion (tombstone).
type Record struct {
	Type        string
	ID          string
	Version     int64 // 1, 2, 3…: meta.versionId
	LastUpdated time.Time
	// Method is the interaction that produced the version: POST, PUT, PATCH or DELETE.
	Method  string
	Deleted bool
	Body    []byte
}

// IndexEntry is one search-index row of a resource: the value of one search
// parameter, encoded by fhir/search so that byte order is search order. The store
// treats Key as opaque bytes.
type IndexEntry struct {
	Param string
	Key   []byte
}

// CompareIndexEntries orders entries by (param, key): the order a store keeps a
// resource's entries in (Tx.Index).
func CompareIndexEntries(a, b IndexEntry) int {
	return cmp.Or(strings.Compare(a.Param, b.Param), bytes.Compare(a.Key, b.Key))
}

// HistoryFilter selects versions for the history interactions. An empty Type means the
// whole system; an empty ID means the whole type.
type HistoryFilter struct {
	Type  string
	ID    string
	Since time.Time // only versions updated at or after Since (zero: all)
	At    time.Time // only versions updated before At (zero: no bound); used to freeze paging
}

// Store keeps resources, every version of them, and their search index. One write
// (a create, or a whole transaction) is one call to Update: everything it puts commits
// together or not at all, and once Update returns nil the write survives a crash.
//
// The interface lives here, with its users; implementations are sub-packages
// (fhir/bolt, the embedded default). fhir/storetest is the suite every one passes.
type Store interface {
	// View runs fn on a consistent read-only snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in one atomic read-write transaction. Implementations may coalesce
	// concurrent Updates into one commit and may therefore run fn more than once: fn must
	// have no effect outside tx. An error from fn rolls everything back.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx is a store transaction. Methods that write fail on a View transaction.
type Tx interface {
	// Current returns the latest version of a resource, tombstone included; ErrNotFound
	// when the id never existed.
	Current(typ, id string) (*Record, error)
	// Version returns one version; ErrNotFound when there is no such version.
	Version(typ, id string, version int64) (*Record, error)
	// History calls fn for matching versions, newest first, until fn returns false.
	History(f HistoryFilter, fn func(*Record) bool) error
	// Put stores rec as the next version of its resource (rec.Version must be the current
	// version + 1, or 1) and replaces the resource's index entries with index (a
	// tombstone has none).
	Put(rec *Record, index []IndexEntry) error
	// ScanIndex calls fn, in key order, for the index entries of param on resources of
	// typ whose key k satisfies from <= k < to (nil: unbounded), until fn returns false.
	ScanIndex(typ, param string, from, to []byte, fn func(key []byte, id string) bool) error
	// Index returns the current index entries of one resource.
	Index(typ, id string) ([]IndexEntry, error)
	// ScanType calls fn for the current, non-deleted version of every resource of typ, in
	// id order, until fn returns false.
	ScanType(typ string, fn func(*Record) bool) error
	// Count returns how many current, non-deleted resources of typ exist.
	Count(typ string) (int, error)
	// GetAux and PutAux keep the server's own small records (frozen search result sets,
	// replay caches…) in namespace ns; a nil value deletes.
	GetAux(ns, key string) ([]byte, error)
	PutAux(ns, key string, value []byte) error
}

// AuxDropper is a Store that can delete a whole namespace of auxiliary records at
// once, for migrations that retire a namespace (Tx has no scan of aux records).
type AuxDropper interface {
	// DropAux deletes every record of namespace ns and returns how many there were.
	DropAux(ctx context.Context, ns string) (int, error)
}
