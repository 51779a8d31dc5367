package smart

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
)

// rosterKey holds, in each account namespace (users, clients), the sorted list of the
// keys it holds: the KV can get and put a key but not list a namespace, and an
// operator must be able to list and remove what was registered.
const rosterKey = "\x00roster"

// rosterMu serialises roster updates within the process: accounts are added and
// removed by operators, rarely and one at a time.
var rosterMu sync.Mutex

func rosterOf(ctx context.Context, kv KV, ns string) ([]string, error) {
	b, err := kv.Get(ctx, ns, rosterKey)
	if err != nil || b == nil {
		return nil, err
	}
	var keys []string
	return keys, json.Unmarshal(b, &keys)
}

// putAccount stores an account and keeps the roster; a nil value removes it.
func putAccount(ctx context.Context, kv KV, ns, key string, val []byte) error {
	rosterMu.Lock()
	defer rosterMu.Unlock()
	keys, err := rosterOf(ctx, kv, ns)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearch(keys, key)
	if err := kv.Put(ctx, ns, key, val); err != nil {
		return err
	}
	switch {
	case val == nil && found:
		keys = slices.Delete(keys, i, i+1)
	case val != nil && !found:
		keys = slices.Insert(keys, i, key)
	default:
		return nil // a replaced account: the roster stays as it is
	}
	b, _ := json.Marshal(keys)
	return kv.Put(ctx, ns, rosterKey, b)
}

// UserAccount is what an operator sees of a user account (never its hash).
type UserAccount struct {
	User     string `json:"user"`
	FHIRUser string `json:"fhirUser"`
}

// ListUsers returns the accounts of the built-in authorization server.
func ListUsers(ctx context.Context, kv KV) ([]UserAccount, error) {
	keys, err := rosterOf(ctx, kv, nsUsers)
	if err != nil {
		return nil, err
	}
	out := []UserAccount{}
	for _, k := range keys {
		b, err := kv.Get(ctx, nsUsers, k)
		if err != nil {
			return nil, err
		}
		var rec userRecord
		if b != nil && json.Unmarshal(b, &rec) == nil {
			out = append(out, UserAccount{User: k, FHIRUser: rec.FHIRUser})
		}
	}
	return out, nil
}

// RemoveUser deletes an account; it reports whether there was one.
func RemoveUser(ctx context.Context, kv KV, name string) (bool, error) {
	return removeAccount(ctx, kv, nsUsers, normalUser(name))
}

// ClientAccount is what an operator sees of a registered client (never a secret).
type ClientAccount struct {
	ID           string   `json:"client_id"`
	Name         string   `json:"client_name"`
	Type         string   `json:"type"`
	Scope        string   `json:"scope"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
}

// ListClients returns the registered clients.
func ListClients(ctx context.Context, kv KV) ([]ClientAccount, error) {
	keys, err := rosterOf(ctx, kv, nsClients)
	if err != nil {
		return nil, err
	}
	out := []ClientAccount{}
	for _, k := range keys {
		c, err := GetClient(ctx, kv, k)
		if err != nil || c == nil {
			continue
		}
		out = append(out, ClientAccount{ID: c.ID, Name: c.Name, Type: string(c.Type), Scope: c.Scope, RedirectURIs: c.RedirectURIs})
	}
	return out, nil
}

// RemoveClient deletes a registered client; it reports whether there was one. Its
// tokens already issued stay valid until they expire or are revoked.
func RemoveClient(ctx context.Context, kv KV, id string) (bool, error) {
	return removeAccount(ctx, kv, nsClients, id)
}

func removeAccount(ctx context.Context, kv KV, ns, key string) (bool, error) {
	b, err := kv.Get(ctx, ns, key)
	if err != nil || b == nil {
		return false, err
	}
	return true, putAccount(ctx, kv, ns, key, nil)
}
