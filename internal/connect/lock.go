package connect

import (
	"hash/maphash"
	"sync"
)

// sourceLock serialises a stateful source's work from the read of stored
// state to the commit. A delivery of a keyed connector holds the source
// shared and one stripe by its key, so deliveries about different pull
// requests commit side by side (group commit needs several in flight);
// anything else, and a collector's page, holds the whole source.
type sourceLock struct {
	all sync.RWMutex
	// Deliveries about different keys that share a stripe wait for each
	// other's commit (a group commit, a millisecond or two): with 64
	// stripes about one delivery in sixteen of 8 concurrent senders did
	// (block profile of BenchmarkGitHubDeliveries); 1,024 (8 KiB a
	// stateful source) make it sixteen times rarer.
	stripes [1024]sync.Mutex
}

var stripeSeed = maphash.MakeSeed()

// lock takes what a delivery of c parsed as p needs and returns its
// release. A build that names no key reads no state: it waits only for a
// collector's page.
func (l *sourceLock) lock(c connector, p *parsed) (unlock func()) {
	if !c.keyed {
		l.all.Lock()
		return l.all.Unlock
	}
	l.all.RLock()
	if p.key == "" {
		return l.all.RUnlock
	}
	m := l.stripe(p.key)
	m.Lock()
	return func() {
		m.Unlock()
		l.all.RUnlock()
	}
}

// stripe is the mutex a key's deliveries share. Two keys may share one (the
// seed is random per process), which costs only concurrency.
func (l *sourceLock) stripe(key string) *sync.Mutex {
	return &l.stripes[maphash.String(stripeSeed, key)%uint64(len(l.stripes))]
}
