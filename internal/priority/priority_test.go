package priority

import (
	"testing"
	"time"
)

// Background waits while a request is in progress and goes on once none
// is; with none it does not wait; and a wait is bounded.
func TestBackgroundWaitsForForeground(t *testing.T) {
	defer SetMaxWait(time.Hour)()

	returned := make(chan struct{})
	go func() { Background(); close(returned) }()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Background waited with no request in progress")
	}

	done := Foreground()
	other := Foreground()
	if n := InProgress(); n != 2 {
		t.Fatalf("%d requests in progress, want 2", n)
	}
	returned = make(chan struct{})
	go func() { Background(); close(returned) }()
	select {
	case <-returned:
		t.Fatal("Background went on while requests were in progress")
	case <-time.After(50 * time.Millisecond):
	}
	done()
	done() // twice is once
	select {
	case <-returned:
		t.Fatal("Background went on while a request was in progress")
	case <-time.After(50 * time.Millisecond):
	}
	other()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Background still waiting after the requests ended")
	}
	if n := InProgress(); n != 0 {
		t.Errorf("%d requests in progress after every one ended", n)
	}

	defer SetMaxWait(10 * time.Millisecond)()
	defer Foreground()()
	returned = make(chan struct{})
	go func() { Background(); close(returned) }()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Background waited past its bound")
	}
}
