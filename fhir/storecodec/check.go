package storecodec

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// CheckName refuses a name (resource type, id, search parameter) that would break
// the NUL-separated key layout: empty, or containing NUL.
func CheckName(what, s string) error {
	if s == "" {
		return fmt.Errorf("store: empty %s", what)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("store: %s contains NUL", what)
	}
	return nil
}

// CheckNamespace refuses an aux namespace containing NUL (an empty one is allowed).
func CheckNamespace(ns string) error {
	if strings.IndexByte(ns, 0) >= 0 {
		return errors.New("store: aux namespace contains NUL")
	}
	return nil
}

// CheckPut runs the checks of Tx.Put that need no stored state: a record is given and
// its type and id are valid names, and so is every index parameter. It returns the
// entries to store: sorted by (param, key), without duplicates, in fresh memory, and
// none for a tombstone, which no search finds.
func CheckPut(rec *fhir.Record, index []fhir.IndexEntry) ([]fhir.IndexEntry, error) {
	if rec == nil {
		return nil, errors.New("store: Put of a nil record")
	}
	if err := CheckName("resource type", rec.Type); err != nil {
		return nil, err
	}
	if err := CheckName("resource id", rec.ID); err != nil {
		return nil, err
	}
	entries, err := normalizeEntries(index)
	if err != nil {
		return nil, err
	}
	if rec.Deleted {
		return nil, nil
	}
	return entries, nil
}

// CheckNames runs the name checks of CheckPut alone (a record is given, and its type,
// id and index parameters are valid names), for a backend that keeps entries its own
// way (the append-only store).
func CheckNames(rec *fhir.Record, index []fhir.IndexEntry) error {
	if rec == nil {
		return errors.New("store: Put of a nil record")
	}
	if err := CheckName("resource type", rec.Type); err != nil {
		return err
	}
	if err := CheckName("resource id", rec.ID); err != nil {
		return err
	}
	for _, e := range index {
		if err := CheckName("search parameter name", e.Param); err != nil {
			return err
		}
	}
	return nil
}

// CheckNextVersion refuses rec unless it is the version after current (0 when the
// resource never existed); the error wraps fhir.ErrConflict.
func CheckNextVersion(rec *fhir.Record, current int64) error {
	if rec.Version != current+1 {
		return fmt.Errorf("%w: %s/%s version %d cannot follow version %d", fhir.ErrConflict, rec.Type, rec.ID, rec.Version, current)
	}
	return nil
}

// InHistoryWindow reports whether a version updated at when is within f's time
// bounds: at or after Since, strictly before At (a zero bound is no bound).
func InHistoryWindow(f fhir.HistoryFilter, when time.Time) bool {
	return (f.Since.IsZero() || !when.Before(f.Since)) && (f.At.IsZero() || when.Before(f.At))
}
