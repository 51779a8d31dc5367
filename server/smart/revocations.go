package smart

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// KV namespaces of revocation: revoked access-token ids (until their exp), and the
// refresh-token families.
const (
	nsRevoked = "smart.revoked"
	nsFamily  = "smart.family"
)

// Revocations is the list of revoked access tokens, by issuer and jti, kept in the KV
// so that it survives restarts and is shared by every instance. A token is listed
// until its own exp (it is refused by then anyway).
//
// Verifying a token looks it up at most once per recheck interval: a revocation by
// this process takes effect at once, one by another instance within recheck.
type Revocations struct {
	kv      KV
	recheck time.Duration
	now     func() time.Time

	mu sync.Mutex
	// checked maps a token key to when it was last found not revoked.
	checked map[string]time.Time
}

// maxRevocationMemo bounds the memo of tokens found not revoked.
const maxRevocationMemo = 16384

// NewRevocations returns the revocation list kept in kv.
func NewRevocations(kv KV) *Revocations {
	return &Revocations{kv: kv, recheck: time.Second, now: time.Now, checked: map[string]time.Time{}}
}

func revocationKey(issuer, jti string) string { return issuer + "\x00" + jti }

// Revoke lists the token (issuer, jti) until exp.
func (r *Revocations) Revoke(ctx context.Context, issuer, jti string, exp time.Time) error {
	if jti == "" {
		return nil
	}
	k := revocationKey(issuer, jti)
	b, _ := exp.UTC().MarshalText()
	if err := r.kv.Put(ctx, nsRevoked, k, b); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.checked, k)
	r.mu.Unlock()
	return nil
}

// Revoked reports whether the token (issuer, jti) is revoked. A token without jti
// cannot be listed. When the list cannot be read, the error says so: the caller
// refuses the token (fail closed) with a 503, not as if it were revoked.
func (r *Revocations) Revoked(ctx context.Context, issuer, jti string) (bool, error) {
	if r == nil || jti == "" {
		return false, nil
	}
	k := revocationKey(issuer, jti)
	now := r.now()
	r.mu.Lock()
	t, ok := r.checked[k]
	r.mu.Unlock()
	if ok && now.Sub(t) < r.recheck {
		return false, nil
	}
	b, err := r.kv.Get(ctx, nsRevoked, k)
	if err != nil {
		return false, err
	}
	if b != nil {
		return true, nil
	}
	r.mu.Lock()
	if len(r.checked) >= maxRevocationMemo {
		clear(r.checked)
	}
	r.checked[k] = now
	r.mu.Unlock()
	return false, nil
}

// family is one chain of refresh tokens, from one authorization: each use of its
// current refresh token replaces it (rotation). A second use of a replaced one means
// the token was copied: the whole family is revoked, with the access tokens it minted.
type family struct {
	// Current is the hash of the live refresh token ("" once revoked).
	Current string `json:"current,omitempty"`
	Revoked bool   `json:"revoked,omitempty"`
	// Access lists the access tokens minted in the family that have not expired.
	Access []mintedToken `json:"access,omitempty"`
}

// mintedToken names an access token by jti, with its expiry.
type mintedToken struct {
	JTI string    `json:"jti"`
	Exp time.Time `json:"exp"`
}

// maxFamilyAccess bounds the access tokens a family remembers (the oldest go first;
// they expire first anyway).
const maxFamilyAccess = 64

func (s *AuthServer) getFamily(ctx context.Context, id string) (*family, error) {
	b, err := s.kv.Get(ctx, nsFamily, id)
	if err != nil || b == nil {
		return nil, err
	}
	var f family
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func (s *AuthServer) putFamily(ctx context.Context, id string, f *family) error {
	now := s.now()
	live := f.Access[:0]
	for _, m := range f.Access {
		if m.Exp.After(now) {
			live = append(live, m)
		}
	}
	f.Access = live
	if n := len(f.Access); n > maxFamilyAccess {
		f.Access = f.Access[n-maxFamilyAccess:]
	}
	b, _ := json.Marshal(f)
	return s.kv.Put(ctx, nsFamily, id, b)
}

// revokeFamily revokes a family: its live refresh token and the access tokens it
// minted.
func (s *AuthServer) revokeFamily(ctx context.Context, id string) error {
	f, err := s.getFamily(ctx, id)
	if err != nil || f == nil {
		return err
	}
	if f.Current != "" {
		if err := s.kv.Put(ctx, nsRefresh, f.Current, nil); err != nil {
			return err
		}
	}
	for _, m := range f.Access {
		if err := s.revocations.Revoke(ctx, s.cfg.Issuer, m.JTI, m.Exp); err != nil {
			return err
		}
	}
	f.Current, f.Revoked = "", true
	return s.putFamily(ctx, id, f)
}
