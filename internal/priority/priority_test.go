package priority

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"
)

// returns reports whether f returns within d.
func returns(f func(), d time.Duration) bool {
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// Background waits while a request is in progress and goes on once none
// is; with none it does not wait; a request blocked on the store does not
// count, nor one past MaxHold; and a wait is bounded.
func TestBackgroundWaitsForForeground(t *testing.T) {
	defer SetMaxWait(time.Hour)()
	ctx := context.Background()
	if !returns(Background, 5*time.Second) {
		t.Fatal("Background waited with no request in progress")
	}

	c1, done := Foreground(ctx)
	_, other := Foreground(ctx)
	if n := InProgress(); n != 2 {
		t.Fatalf("%d requests in progress, want 2", n)
	}
	waiting := make(chan struct{})
	go func() { Background(); close(waiting) }()
	select {
	case <-waiting:
		t.Fatal("Background went on while requests were in progress")
	case <-time.After(50 * time.Millisecond):
	}
	done()
	done() // twice is once
	if n := InProgress(); n != 1 {
		t.Fatalf("%d requests in progress after one ended, want 1", n)
	}
	resume := Blocked(c1) // an ended request: nothing to take out or put back
	resume()
	if n := InProgress(); n != 1 {
		t.Fatalf("%d requests in progress after an ended one blocked and resumed, want 1", n)
	}
	other()
	select {
	case <-waiting:
	case <-time.After(5 * time.Second):
		t.Fatal("Background still waiting after the requests ended")
	}

	// Blocked on the store: not counted until it resumes.
	c, done := Foreground(ctx)
	resume = Blocked(c)
	if !returns(Background, 5*time.Second) {
		t.Fatal("Background waited for a request blocked on the store")
	}
	resume()
	if n := InProgress(); n != 1 {
		t.Fatalf("%d requests in progress after it resumed, want 1", n)
	}
	if returns(Background, 50*time.Millisecond) {
		t.Fatal("Background went on while the resumed request was in progress")
	}
	// A stop condition ends the wait.
	if !returns(func() { BackgroundUnless(func() bool { return true }) }, 5*time.Second) {
		t.Fatal("BackgroundUnless waited though told to stop")
	}
	// Past MaxHold the request no longer counts.
	time.Sleep(MaxHold + 100*time.Millisecond)
	if n := InProgress(); n != 0 {
		t.Fatalf("%d requests in progress past MaxHold, want 0", n)
	}
	done()
	if !returns(Background, 5*time.Second) {
		t.Fatal("Background waited with no request in progress")
	}

	defer SetMaxWait(10 * time.Millisecond)()
	_, held := Foreground(ctx)
	defer held()
	if !returns(Background, 5*time.Second) {
		t.Fatal("Background waited past its bound")
	}
}

// A server doubles the Ps while bulk work keeps to the cores; the last
// server to stop puts them back, and an operator's GOMAXPROCS is left
// alone.
func TestForServing(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	os.Unsetenv("GOMAXPROCS")
	start := runtime.GOMAXPROCS(0)
	if start < runtime.NumCPU() {
		// As under a CPU quota: left alone.
		ForServing()()
		if got := runtime.GOMAXPROCS(0); got != start {
			t.Fatalf("under a quota of %d Ps on %d CPUs: GOMAXPROCS %d", start, runtime.NumCPU(), got)
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.NumCPU()))
		start = runtime.NumCPU()
	}
	a := ForServing()
	b := ForServing()
	if got := runtime.GOMAXPROCS(0); got != 2*start {
		t.Fatalf("serving: GOMAXPROCS %d, want %d", got, 2*start)
	}
	if Cores() != start {
		t.Fatalf("serving: Cores %d, want %d", Cores(), start)
	}
	a()
	a() // once
	if got := runtime.GOMAXPROCS(0); got != 2*start {
		t.Fatalf("one of two servers stopped: GOMAXPROCS %d, want %d", got, 2*start)
	}
	b()
	if got := runtime.GOMAXPROCS(0); got != start || Cores() != start {
		t.Fatalf("stopped: GOMAXPROCS %d, Cores %d, want %d", got, Cores(), start)
	}
	t.Setenv("GOMAXPROCS", "3")
	ForServing()()
	if got := runtime.GOMAXPROCS(0); got != start {
		t.Fatalf("with GOMAXPROCS set: %d, want %d", got, start)
	}
}
