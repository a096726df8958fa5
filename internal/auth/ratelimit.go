package auth

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Rate is how many attempts a key may make: Attempts at once, refilled at
// Attempts per Per (a token bucket), so a burst of mistakes is allowed and
// guessing is held to a trickle.
type Rate struct {
	Attempts int
	Per      time.Duration
}

func (r Rate) validate() error {
	if r.Attempts < 1 || r.Per <= 0 {
		return fmt.Errorf("want at least 1 attempt per a positive duration, got %d per %v", r.Attempts, r.Per)
	}
	return nil
}

// Limiter holds one token bucket per key, in memory: each instance limits
// on its own, so behind a load balancer of n instances a key gets up to n
// times the rate. It forgets buckets that have refilled, so its memory is
// bounded by the keys active within about two refill periods, and by
// maxKeys.
type Limiter struct {
	rate    Rate
	now     func() time.Time
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time // last sweep of refilled buckets
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
	// refused is set at the first refusal since the bucket was last
	// allowed, so a flood of refused attempts is reported once.
	refused bool
}

// defaultMaxKeys bounds a limiter's memory (about 100 bytes a key) when an
// attacker spreads attempts over many addresses or names.
const defaultMaxKeys = 100_000

// NewLimiter returns a limiter; now is its clock (time.Now when nil).
func NewLimiter(r Rate, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: r, now: now, maxKeys: defaultMaxKeys, buckets: map[string]*bucket{}}
}

// refill brings b up to now; it reports whether b is full (and so
// indistinguishable from no bucket).
func (l *Limiter) refill(b *bucket, now time.Time) bool {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(float64(l.rate.Attempts), b.tokens+el.Seconds()*float64(l.rate.Attempts)/l.rate.Per.Seconds())
		b.at = now
	}
	return b.tokens >= float64(l.rate.Attempts)
}

// Take spends one attempt of key. When none is left it returns false, how
// long until one is, and whether this is the first refusal since the key
// was last allowed.
func (l *Limiter) Take(key string) (ok bool, retryAfter time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) >= l.rate.Per {
		l.sweep(now)
	}
	b, found := l.buckets[key]
	if !found {
		if len(l.buckets) >= l.maxKeys {
			l.evict(now)
		}
		b = &bucket{tokens: float64(l.rate.Attempts), at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		b.refused = false
		return true, 0, false
	}
	first = !b.refused
	b.refused = true
	wait := time.Duration((1 - b.tokens) * float64(l.rate.Per) / float64(l.rate.Attempts))
	return false, max(wait, time.Second).Round(time.Second), first
}

// Give returns one attempt to key (a sign-in that succeeded does not count
// against its address).
func (l *Limiter) Give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		l.refill(b, l.now())
		b.tokens = math.Min(float64(l.rate.Attempts), b.tokens+1)
	}
}

// Forget refills key entirely (a successful sign-in clears an account's
// earlier mistakes).
func (l *Limiter) Forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}

// sweep drops the buckets that have refilled: a full bucket is the same as
// none. Run once a refill period, it costs a pass over keys that were
// active within about two periods.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if l.refill(b, now) {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

// evict sweeps and, if that is not enough, drops the least recently used
// half: forgetting a key only gives it a fresh allowance, which an
// attacker with that many keys has anyway.
func (l *Limiter) evict(now time.Time) {
	l.sweep(now)
	if len(l.buckets) < l.maxKeys {
		return
	}
	type kb struct {
		k  string
		at time.Time
	}
	all := make([]kb, 0, len(l.buckets))
	for k, b := range l.buckets {
		all = append(all, kb{k, b.at})
	}
	slices.SortFunc(all, func(a, b kb) int { return a.at.Compare(b.at) })
	for _, x := range all[:len(all)/2+1] {
		delete(l.buckets, x.k)
	}
}

// Len is the number of keys held, for tests.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// addressKey is the rate-limit key of a client address: an IPv6 client
// controls its whole /64, so that is what it is limited by.
func addressKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}
