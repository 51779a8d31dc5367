package fhir

import (
	"context"
	"net/http"
	"slices"
)

// Snapshotter is a Store whose read snapshots can be opened and released explicitly, so
// that a snapshot can live alongside another store's transaction.
type Snapshotter interface {
	Store
	// Snapshot opens a read-only snapshot; the caller calls release exactly once.
	Snapshot(ctx context.Context) (tx Tx, release func(), err error)
}

// Split keeps the resources of sideTypes in side and everything else in main. View and
// Update run in main; reads of a side type go to a side snapshot opened on first need
// in each run of fn and released when that run returns, so requests that never touch
// a side type cost nothing extra. Side types are written by the server itself straight
// into side (the audit trail), so Put of one is refused with 405. System history (an
// empty HistoryFilter.Type) is main's alone: it lists what clients wrote, not the
// server's own records. The side snapshot is not taken at the same instant as main's
// transaction; the two stores share no commits.
func Split(main Store, side Snapshotter, sideTypes ...string) Store {
	return &split{main: main, side: side, types: slices.Clone(sideTypes)}
}

// split is the Store returned by Split.
type split struct {
	main  Store
	side  Snapshotter
	types []string // few: a slice beats a map
}

// View runs fn on a snapshot of main, side types read from a side snapshot.
func (s *split) View(ctx context.Context, fn func(Tx) error) error {
	return s.main.View(ctx, func(tx Tx) error { return s.run(ctx, tx, fn) })
}

// Update runs fn in main's write transaction; side types are read-only in it.
func (s *split) Update(ctx context.Context, fn func(Tx) error) error {
	return s.main.Update(ctx, func(tx Tx) error { return s.run(ctx, tx, fn) })
}

// run runs fn once on a splitTx over main's tx, releasing the side snapshot it opened.
func (s *split) run(ctx context.Context, tx Tx, fn func(Tx) error) error {
	st := &splitTx{Tx: tx, s: s, ctx: ctx}
	defer st.releaseSnap()
	return fn(st)
}

// Close closes both stores and returns the first error.
func (s *split) Close() error {
	mainErr := s.main.Close()
	if err := s.side.Close(); mainErr == nil {
		return err
	}
	return mainErr
}

// isSide reports whether typ lives in the side store.
func (s *split) isSide(typ string) bool { return typ != "" && slices.Contains(s.types, typ) }

// splitTx forwards to main's tx (the embedded Tx: GetAux, PutAux and every other type)
// and sends side types to a lazily opened side snapshot.
type splitTx struct {
	Tx
	s       *split
	ctx     context.Context
	snap    Tx
	release func()
}

// sideTx returns the side snapshot, opening it on first use.
func (t *splitTx) sideTx() (Tx, error) {
	if t.snap == nil {
		snap, release, err := t.s.side.Snapshot(t.ctx)
		if err != nil {
			return nil, err
		}
		t.snap, t.release = snap, release
	}
	return t.snap, nil
}

// releaseSnap releases the side snapshot, if this run of fn opened one.
func (t *splitTx) releaseSnap() {
	if t.release != nil {
		t.release()
		t.snap, t.release = nil, nil
	}
}

// route returns the transaction that keeps typ: the side snapshot for side types,
// main's otherwise.
func (t *splitTx) route(typ string) (Tx, error) {
	if !t.s.isSide(typ) {
		return t.Tx, nil
	}
	return t.sideTx()
}

// Current reads from the store that keeps typ.
func (t *splitTx) Current(typ, id string) (*Record, error) {
	tx, err := t.route(typ)
	if err != nil {
		return nil, err
	}
	return tx.Current(typ, id)
}

// Version reads from the store that keeps typ.
func (t *splitTx) Version(typ, id string, version int64) (*Record, error) {
	tx, err := t.route(typ)
	if err != nil {
		return nil, err
	}
	return tx.Version(typ, id, version)
}

// History walks the store that keeps f.Type (main for the system history).
func (t *splitTx) History(f HistoryFilter, fn func(*Record) bool) error {
	tx, err := t.route(f.Type)
	if err != nil {
		return err
	}
	return tx.History(f, fn)
}

// Put refuses side types: the server records them itself, once, in the side store.
func (t *splitTx) Put(rec *Record, index []IndexEntry) error {
	if rec != nil && t.s.isSide(rec.Type) {
		return Errorf(http.StatusMethodNotAllowed, "not-supported", rec.Type,
			"%s resources are recorded by the server itself and never changed (append-only)", rec.Type)
	}
	return t.Tx.Put(rec, index)
}

// ScanIndex scans the index of the store that keeps typ.
func (t *splitTx) ScanIndex(typ, param string, from, to []byte, fn func(key []byte, id string) bool) error {
	tx, err := t.route(typ)
	if err != nil {
		return err
	}
	return tx.ScanIndex(typ, param, from, to, fn)
}

// Index reads from the store that keeps typ.
func (t *splitTx) Index(typ, id string) ([]IndexEntry, error) {
	tx, err := t.route(typ)
	if err != nil {
		return nil, err
	}
	return tx.Index(typ, id)
}

// ScanType walks the store that keeps typ.
func (t *splitTx) ScanType(typ string, fn func(*Record) bool) error {
	tx, err := t.route(typ)
	if err != nil {
		return err
	}
	return tx.ScanType(typ, fn)
}

// Count counts in the store that keeps typ.
func (t *splitTx) Count(typ string) (int, error) {
	tx, err := t.route(typ)
	if err != nil {
		return 0, err
	}
	return tx.Count(typ)
}

// DropAux drops namespace ns of main, where aux records live.
func (s *split) DropAux(ctx context.Context, ns string) (int, error) {
	if d, ok := s.main.(AuxDropper); ok {
		return d.DropAux(ctx, ns)
	}
	return 0, nil
}
