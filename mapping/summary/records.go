package summary

import (
	"errors"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Snapshot reads a patient's record in one store read transaction
// (mapping.Records): the summary is consistent even while the pathway writes.
type Snapshot struct {
	Tx fhir.Tx
	// Match is the search engine's strict matcher.
	Match func(tx fhir.Tx, typ, query string) ([]string, error)
}

// Read returns the current version of typ/id; nil when unknown or deleted.
func (s Snapshot) Read(typ, id string) ([]byte, error) {
	rec, err := s.Tx.Current(typ, id)
	if errors.Is(err, fhir.ErrNotFound) || (err == nil && rec.Deleted) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rec.Body, nil
}

// Search returns the current resources of typ matching query.
func (s Snapshot) Search(typ, query string) ([][]byte, error) {
	ids, err := s.Match(s.Tx, typ, query)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(ids))
	for _, id := range ids {
		if b, err := s.Read(typ, id); err == nil && b != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

func now(svc *rest.Service) time.Time {
	if svc.Now != nil {
		return svc.Now().UTC()
	}
	return time.Now().UTC()
}
