package scorecard

import (
	"strings"
	"sync/atomic"
	"testing"
)

// A panic in one call is raised again in forEach's caller, with the
// worker's stack, once every other index has been computed: on a goroutine
// of its own it had ended the process, and a worker that stopped taking
// indexes would have left the caller blocked handing them out.
func TestForEachRaisesAWorkersPanicInTheCaller(t *testing.T) {
	var done atomic.Int32
	var got any
	func() {
		defer func() { got = recover() }()
		forEach(40, 2, func(i int) {
			if i%7 == 3 {
				panic("index 3")
			}
			done.Add(1)
		})
	}()
	wp, ok := got.(*WorkerPanic)
	if !ok || wp.Value != "index 3" {
		t.Fatalf("recovered %#v, want a *WorkerPanic of the first index's panic", got)
	}
	if !strings.Contains(string(wp.Stack), "TestForEachRaisesAWorkersPanicInTheCaller") {
		t.Errorf("the stack is not the worker's:\n%s", wp.Stack)
	}
	if n := done.Load(); n != 34 {
		t.Errorf("%d indexes computed, want the 34 that do not panic", n)
	}
	// Without a panic it is a plain parallel loop.
	var sum atomic.Int64
	forEach(100, 3, func(i int) { sum.Add(int64(i)) })
	if sum.Load() != 4950 {
		t.Errorf("sum %d, want 4950", sum.Load())
	}
}
