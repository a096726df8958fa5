package connect

import (
	"fmt"
	"testing"
	"time"
)

// held reports whether take returns (its lock granted) within d, releasing
// it if so. A lock that should be granted is given seconds (a loaded machine
// may not run the goroutine for a while); one that should wait, a moment.
func held(take func() func(), d time.Duration) bool {
	got := make(chan func(), 1)
	go func() { got <- take() }()
	select {
	case unlock := <-got:
		unlock()
		return true
	case <-time.After(d):
		// Still waiting: let it finish once the holder releases, so the
		// goroutine does not leak past the test.
		go func() { (<-got)() }()
		return false
	}
}

func TestSourceLock(t *testing.T) {
	keyed, plain := connector{name: "k", stateful: true, keyed: true}, connector{name: "p", stateful: true}
	pr := func(key string) *parsed { return &parsed{key: key} }

	var l sourceLock
	unlock := l.lock(keyed, pr("org/repo#1"))
	const granted, waits = 10 * time.Second, 50 * time.Millisecond
	// Keys share a stripe one time in 1,024 with a random seed: take another
	// pull request whose stripe is surely a different one.
	other := "org/repo#2"
	for n := 3; l.stripe(other) == l.stripe("org/repo#1"); n++ {
		other = fmt.Sprintf("org/repo#%d", n)
	}
	if !held(func() func() { return l.lock(keyed, pr(other)) }, granted) {
		t.Error("another pull request's delivery waited for the first one's")
	}
	if !held(func() func() { return l.lock(keyed, pr("")) }, granted) {
		t.Error("a delivery reading no state waited")
	}
	if held(func() func() { return l.lock(keyed, pr("org/repo#1")) }, waits) {
		t.Error("a second delivery about the same pull request did not wait")
	}
	if held(func() func() { l.all.Lock(); return l.all.Unlock }, waits) {
		t.Error("a collector's page did not wait for a delivery in flight")
	}
	unlock()
	time.Sleep(20 * time.Millisecond) // let the waiters above go through

	// A connector that is not keyed holds the whole source.
	var p sourceLock
	unlock = p.lock(plain, pr("a"))
	if held(func() func() { return p.lock(plain, pr("b")) }, waits) {
		t.Error("a stateful connector without keys let two deliveries through at once")
	}
	unlock()
}
