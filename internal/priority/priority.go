// Package priority lets a server's pages and API reads go before its bulk
// work. A process has two cores' worth of CPU to share between the
// requests a person waits for and work nobody waits for second by second:
// an import's parsing and writing, the engine's follower decoding and
// applying the rows, the stale results being recomputed. Go's scheduler
// treats every goroutine alike, so during a large import a read needing a
// few milliseconds of CPU took its turn among them: at scale 1 the reads'
// p99 was 135–240 ms (docs/performance.md, "Reads before bulk work").
//
// Foreground marks a request in progress; bulk work calls Background
// between its units of work (a chunk of rows), which waits while any
// request is in progress — for at most MaxWait a unit, so that a server
// read without pause still imports, at a fraction of its rate.
//
// A request counts for at most MaxHold (a slow client's download does not
// hold bulk work back for its whole length), and not while it waits for
// the store's writer (Blocked): an import holds SQLite's writer until it
// commits, and a page that writes (a session's last use, a page view)
// would otherwise slow the very import it waits for.
package priority

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// MaxWait bounds how long Background waits for requests in progress.
	MaxWait = 20 * time.Millisecond
	// MaxHold bounds how long one request counts as in progress.
	MaxHold = time.Second
)

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

// A mark is one request's count in active.
type mark struct {
	mu      sync.Mutex
	counted bool // in active now
	over    bool // done, or held for MaxHold
	timer   *time.Timer
}

func (m *mark) uncount(over bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counted {
		active.Add(-1)
		m.counted = false
	}
	m.over = m.over || over
}

type markKey struct{}

// Foreground marks a request in progress until done is called (or for
// MaxHold at most), and returns ctx carrying the mark for Blocked.
func Foreground(ctx context.Context) (context.Context, func()) {
	m := &mark{counted: true}
	active.Add(1)
	m.timer = time.AfterFunc(MaxHold, func() { m.uncount(true) })
	return context.WithValue(ctx, markKey{}, m), func() {
		m.timer.Stop()
		m.uncount(true)
	}
}

// Blocked takes the request of ctx, if any, out of the count while it
// waits for something bulk work may hold (the store's writer), until
// resume is called.
func Blocked(ctx context.Context) (resume func()) {
	m, _ := ctx.Value(markKey{}).(*mark)
	if m == nil {
		return func() {}
	}
	m.uncount(false)
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.over && !m.counted {
			active.Add(1)
			m.counted = true
		}
	}
}

// InProgress is the number of requests in progress.
func InProgress() int { return int(active.Load()) }

// Background waits while a request is in progress, for at most MaxWait.
// It returns at once when none is.
func Background() { BackgroundUnless(nil) }

// BackgroundUnless is Background that also stops waiting once stop (if
// not nil) reports true: work that someone starts waiting for meanwhile
// (a writer waiting to read its rows) is no longer bulk work.
func BackgroundUnless(stop func() bool) {
	if active.Load() == 0 {
		return
	}
	deadline := time.Now().Add(time.Duration(maxWait.Load()))
	for active.Load() > 0 && time.Now().Before(deadline) && (stop == nil || !stop()) {
		// Short sleeps: a request ends within milliseconds, and the
		// bulk work should resume soon after.
		time.Sleep(200 * time.Microsecond)
	}
}
