package auth

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// clock is a settable clock for limiters and sessions.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func TestLimiterBurstThenRefill(t *testing.T) {
	c := newClock()
	l := NewLimiter(Rate{Attempts: 3, Per: 3 * time.Minute}, c.Now) // one back a minute
	for i := 0; i < 3; i++ {
		if ok, _, _ := l.Take("ann"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, wait, first := l.Take("ann")
	if ok || wait != time.Minute || !first {
		t.Fatalf("4th attempt: ok %v, retry after %v, first %v; want refused, 1m, first", ok, wait, first)
	}
	if ok, _, first := l.Take("ann"); ok || first {
		t.Fatalf("5th attempt: ok %v first %v; want refused, not first", ok, first)
	}
	// Other keys are not affected.
	if ok, _, _ := l.Take("bob"); !ok {
		t.Fatal("another key refused")
	}
	c.Advance(30 * time.Second)
	if ok, wait, _ := l.Take("ann"); ok || wait != 30*time.Second {
		t.Fatalf("after 30 s: ok %v, retry after %v; want refused, 30s", ok, wait)
	}
	c.Advance(30 * time.Second)
	if ok, _, _ := l.Take("ann"); !ok {
		t.Fatal("after a minute: still refused")
	}
	if ok, _, first := l.Take("ann"); ok || !first {
		t.Fatalf("refused again after an allowed attempt: first = %v, want true", first)
	}
	// Never more than the burst, however long the wait.
	c.Advance(24 * time.Hour)
	n := 0
	for ok := true; ok; n++ {
		ok, _, _ = l.Take("ann")
	}
	if n-1 != 3 {
		t.Errorf("after a day: %d attempts allowed, want 3", n-1)
	}
}

func TestLimiterGiveAndForget(t *testing.T) {
	c := newClock()
	l := NewLimiter(Rate{Attempts: 2, Per: time.Hour}, c.Now)
	l.Take("a")
	l.Take("a")
	l.Give("a")
	if ok, _, _ := l.Take("a"); !ok {
		t.Error("a given-back attempt was not there")
	}
	if ok, _, _ := l.Take("a"); ok {
		t.Error("Give returned more than one")
	}
	l.Forget("a")
	for i := 0; i < 2; i++ {
		if ok, _, _ := l.Take("a"); !ok {
			t.Error("Forget did not refill")
		}
	}
	l.Give("unknown") // no bucket: nothing to do, no panic
}

func TestLimiterMemoryBounded(t *testing.T) {
	c := newClock()
	l := NewLimiter(Rate{Attempts: 2, Per: time.Minute}, c.Now)
	l.maxKeys = 100
	for i := 0; i < 1000; i++ {
		l.Take(fmt.Sprint(i))
		l.Take(fmt.Sprint(i)) // empty: not evictable as full
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("%d keys held, bound 100", n)
	}
	// The newest keys are still limited.
	if ok, _, _ := l.Take("999"); ok {
		t.Error("the newest key lost its state")
	}
	// Refilled buckets go first.
	c.Advance(time.Hour)
	l.Take("new")
	if n := l.Len(); n > 2 {
		t.Errorf("after refill and one new key, %d keys held", n)
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::99":     "2001:db8:1:2::/64",
	} {
		if got := addressKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("addressKey(%s) = %s, want %s", in, got, want)
		}
	}
	if addressKey(netip.Addr{}) != "unknown" {
		t.Error("zero address")
	}
}
