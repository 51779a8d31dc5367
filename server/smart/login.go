package smart

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// LoginAttempt is one login at the authorization endpoint, for the audit trail.
type LoginAttempt struct {
	// User is the account name presented ("" when none was).
	User string
	// FHIRUser is the user's FHIR identity, on success only.
	FHIRUser string
	// Address is the client's network address (as gin trusts it: see
	// --trusted-proxy).
	Address string
	Success bool
	// Status is the HTTP status answered (401 wrong credentials, 429 locked out).
	Status int
	When   time.Time
}

// LoginAuditor records logins (the AuditLog does, as DICOM "User Authentication"
// AuditEvents).
type LoginAuditor interface {
	Login(LoginAttempt)
}

// throttlePolicy is how failures lock a key out: the free-th failure locks it for
// base, each further one for twice as long, at most max. Failures are forgotten after
// forgetAfter without one.
type throttlePolicy struct {
	free        int
	base, max   time.Duration
	forgetAfter time.Duration
}

// Login throttling: an account is locked after 5 failures, an address (a hospital's
// NAT may hide many users) after 20, both for 30 s doubling up to 15 min.
var (
	accountPolicy = throttlePolicy{free: 5, base: 30 * time.Second, max: 15 * time.Minute, forgetAfter: time.Hour}
	addressPolicy = throttlePolicy{free: 20, base: 30 * time.Second, max: 15 * time.Minute, forgetAfter: time.Hour}
)

// maxThrottleEntries bounds the table (an attacker spraying names must not grow it
// without end); past it, entries not locked are dropped.
const maxThrottleEntries = 65536

// loginThrottle slows password guessing: per account and per address, failures lock
// the key out for an exponentially growing window, during which even the right
// password is refused. It is per process: several instances each count.
type loginThrottle struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures    int
	last        time.Time
	lockedUntil time.Time
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{now: time.Now, entries: map[string]*throttleEntry{}}
}

// wait is how long the keys stay locked (0: not locked).
func (t *loginThrottle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var w time.Duration
	for _, k := range keys {
		if e := t.entries[k]; e != nil && e.lockedUntil.After(now) {
			w = max(w, e.lockedUntil.Sub(now))
		}
	}
	return w
}

// fail counts a failure against key.
func (t *loginThrottle) fail(key string, p throttlePolicy) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	e := t.entries[key]
	if e == nil {
		if len(t.entries) >= maxThrottleEntries {
			t.sweep(now)
		}
		e = &throttleEntry{}
		t.entries[key] = e
	}
	if now.Sub(e.last) > p.forgetAfter && !e.lockedUntil.After(now) {
		e.failures = 0
	}
	e.failures++
	e.last = now
	if n := e.failures - p.free; n >= 0 {
		d := p.max
		if n < 30 && p.base<<n < p.max {
			d = p.base << n
		}
		e.lockedUntil = now.Add(d)
	}
}

// succeed forgets the failures of key (an account, after its right password).
func (t *loginThrottle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

// sweep drops the entries not locked; when all are, the table starts afresh.
func (t *loginThrottle) sweep(now time.Time) {
	for k, e := range t.entries {
		if !e.lockedUntil.After(now) {
			delete(t.entries, k)
		}
	}
	if len(t.entries) >= maxThrottleEntries {
		clear(t.entries)
	}
}

// login authenticates the user of an authorization request through s.Users, with
// throttling and audit. On failure it has answered (401 with the challenge, or 429
// with Retry-After while locked out) and returns ok false. record says whether a
// success is audited (the first step of a flow; the later steps re-check the same
// credentials).
func (s *AuthServer) login(c *gin.Context, record bool) (fhirUser string, ok bool) {
	name, _, hasCreds := c.Request.BasicAuth()
	addr := c.ClientIP()
	acctKey, addrKey := "account\x00"+name, "address\x00"+addr
	attempt := LoginAttempt{User: name, Address: addr, When: s.now().UTC()}
	if hasCreds {
		if wait := s.throttle.wait(acctKey, addrKey); wait > 0 {
			attempt.Status = http.StatusTooManyRequests
			s.auditLogin(attempt)
			secs := int(wait.Round(time.Second) / time.Second)
			c.Header("Retry-After", strconv.Itoa(max(secs, 1)))
			page(c, http.StatusTooManyRequests, "Trop de tentatives",
				fmt.Sprintf("Trop d'échecs de connexion pour ce compte ou cette adresse. Réessayez dans %d s.", max(secs, 1)))
			return "", false
		}
	}
	u, err := s.Users.Authenticate(c.Request)
	if err != nil {
		if hasCreds {
			s.throttle.fail(acctKey, accountPolicy)
			s.throttle.fail(addrKey, addressPolicy)
			attempt.Status = http.StatusUnauthorized
			s.auditLogin(attempt)
		}
		if ch, ok := s.Users.(challenger); ok {
			c.Header("WWW-Authenticate", ch.Challenge())
		}
		page(c, http.StatusUnauthorized, "Connexion requise", "Identifiez-vous sur le portail de l'hôpital, puis réessayez.")
		return "", false
	}
	s.throttle.succeed(acctKey)
	if record {
		attempt.Success, attempt.FHIRUser, attempt.Status = true, u, http.StatusOK
		s.auditLogin(attempt)
	}
	return u, true
}

func (s *AuthServer) auditLogin(a LoginAttempt) {
	if s.Audit != nil {
		s.Audit.Login(a)
	}
}
