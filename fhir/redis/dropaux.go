package redis

import (
	"context"

	"github.com/aitgw/aitgw/fhir"
)

var _ fhir.AuxDropper = (*Store)(nil)

// DropAux deletes the hash that holds aux namespace ns and returns how many records
// it held. UNLINK frees the memory in the background.
func (s *Store) DropAux(ctx context.Context, ns string) (int, error) {
	n, err := s.rdb.HLen(ctx, s.keys.aux(ns)).Result()
	if err != nil || n == 0 {
		return 0, err
	}
	return int(n), s.rdb.Unlink(ctx, s.keys.aux(ns)).Err()
}
