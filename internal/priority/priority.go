// Package priority lets a server's pages and API reads go before its bulk
// work. A process has two cores' worth of CPU to share between the
// requests a person waits for and work nobody waits for second by second:
// an import's parsing and writing, the engine's follower decoding and
// applying the rows, the stale results being recomputed. Go's scheduler
// treats every goroutine alike, so during a large import a read needing a
// few milliseconds of CPU took its turn among them: at scale 1 the reads'
// p99 was 135–220 ms (docs/performance.md, "Reads before bulk work").
//
// Foreground marks a request in progress; bulk work calls Background
// between its units of work (a chunk of rows), which waits while any
// request is in progress — for at most MaxWait a unit, so that a server
// read without pause still imports, at a fraction of its rate.
package priority

import (
	"sync/atomic"
	"time"
)

// MaxWait bounds how long Background waits for requests in progress.
const MaxWait = 20 * time.Millisecond

var (
	active  atomic.Int32
	maxWait atomic.Int64 // nanoseconds; SetMaxWait changes it
)

func init() { maxWait.Store(int64(MaxWait)) }

// SetMaxWait changes MaxWait until restore is called: for tests of the
// packages that wait, to tell waiting from not.
func SetMaxWait(d time.Duration) (restore func()) {
	old := maxWait.Swap(int64(d))
	return func() { maxWait.Store(old) }
}

// Foreground marks a request in progress until done is called.
func Foreground() (done func()) {
	active.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			active.Add(-1)
		}
	}
}

// InProgress is the number of requests in progress.
func InProgress() int { return int(active.Load()) }

// Background waits while a request is in progress, for at most MaxWait.
// It returns at once when none is.
func Background() {
	if active.Load() == 0 {
		return
	}
	deadline := time.Now().Add(time.Duration(maxWait.Load()))
	for active.Load() > 0 && time.Now().Before(deadline) {
		// Short sleeps: a request ends within milliseconds, and the
		// bulk work should resume soon after.
		time.Sleep(200 * time.Microsecond)
	}
}
