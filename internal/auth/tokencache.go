package auth

import (
	"sync"
	"time"

	"github.com/candor/candor/internal/store"
)

// tokenCache keeps the tokens (and their owners) read from the store in
// the last Options.TokenRecheck, by lookup. An API client posts request
// after request with one token; reading it for each was a query each, on
// PostgreSQL a round trip that made up about half of a posted record's
// trips to the database. The secret's hash, revocation and the owner's
// state are still checked on every request, against the kept copy.
//
// Every change to access made through the Service (a token revoked, a user
// disabled, roles changed) empties the cache, and so does a read that
// began before such a change: it keeps nothing (generation). A new Service
// method that changes tokens or users must call clear after its write, or
// the change waits for TokenRecheck on this instance too.
type tokenCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]tokenEntry
}

type tokenEntry struct {
	token store.Token
	owner store.User // the zero User for a token without an owner
	read  time.Time
}

// maxCachedTokens bounds the cache; past it, it starts empty again.
const maxCachedTokens = 4096

func (c *tokenCache) get(lookup string, now time.Time, recheck time.Duration) (tokenEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[lookup]
	// A clock gone backwards reads the store too.
	if !ok || now.Before(e.read) || now.Sub(e.read) >= recheck {
		return tokenEntry{}, false
	}
	return e, true
}

// generation is taken before a read of the store, for put.
func (c *tokenCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps e unless access changed since gen was taken: e may then have
// been read before the change.
func (c *tokenCache) put(lookup string, e tokenEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = map[string]tokenEntry{}
	}
	c.entries[lookup] = e
}

// touched notes that the token's last use was recorded at now, so that
// the kept copy does not ask for it again until touchEvery has passed.
func (c *tokenCache) touched(lookup string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[lookup]; ok {
		e.token.LastUsed = now
		c.entries[lookup] = e
	}
}

// clear forgets every token; reads under way keep nothing.
func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = nil
}
