package smart

import (
	"context"
	"sync"
)

// KV is the small persistent store the authorization server keeps its records in
// (clients, launch contexts, authorization codes, refresh tokens, the jti replay
// cache). Values are opaque bytes. The gateway backs it with fhir.Store aux records.
type KV interface {
	// Get returns the value under ns/key, or nil (and no error) when there is none.
	Get(ctx context.Context, ns, key string) ([]byte, error)
	// Put stores val under ns/key; a nil val deletes.
	Put(ctx context.Context, ns, key string, val []byte) error
	// PutNew stores val only if ns/key holds nothing, atomically, and reports whether it
	// did. It makes one-time codes and the jti replay cache race-free.
	PutNew(ctx context.Context, ns, key string, val []byte) (bool, error)
}

// MemKV is an in-memory KV for tests and single-process tools.
type MemKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemKV returns an empty MemKV.
func NewMemKV() *MemKV { return &MemKV{m: map[string][]byte{}} }

// Get implements KV.
func (k *MemKV) Get(_ context.Context, ns, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[ns+"\x00"+key], nil
}

// Put implements KV.
func (k *MemKV) Put(_ context.Context, ns, key string, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if val == nil {
		delete(k.m, ns+"\x00"+key)
	} else {
		k.m[ns+"\x00"+key] = append([]byte(nil), val...)
	}
	return nil
}

// PutNew implements KV.
func (k *MemKV) PutNew(_ context.Context, ns, key string, val []byte) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[ns+"\x00"+key]; ok {
		return false, nil
	}
	k.m[ns+"\x00"+key] = append([]byte(nil), val...)
	return true, nil
}
