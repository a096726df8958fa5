// Package gcpace paces Go's garbage collector to the data the process
// holds.
//
// GOGC sets the collector's headroom in proportion to the live heap: at
// the default of 100 the heap may grow to twice what is live before the
// next collection. Most of what a Candor server holds live is its dataset
// — long-lived, mostly pointer-free columns that a collection marks
// cheaply and never frees — while the garbage that needs headroom comes
// from requests, imports and refreshes, whose size does not grow with the
// data. Proportional headroom therefore doubles the memory of a large
// dataset to make room for garbage a fraction its size (docs/performance.md,
// "Peak memory and the collector"). The pacer keeps the headroom at what
// the work needs instead: after each collection it sets GOGC so the heap
// may grow by max(Floor, Fraction × live), never more than GOGC 100 would
// allow.
//
// An operator's own GOGC or GOMEMLIMIT wins: the pacer does not start.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Policy says how much the heap may grow past what is live.
type Policy struct {
	// Floor is the least headroom in bytes, whatever the live heap.
	Floor uint64
	// Fraction of the live heap is the headroom once that is more than
	// Floor.
	Fraction float64
	// Min and Max bound the GOGC set.
	Min, Max int
}

// Default is the policy candor's commands run with: 64 MiB of headroom,
// or a quarter of the live heap past 256 MiB live, GOGC between 25 and
// 100. At scale 1 (~100 MiB live) that is GOGC ~64; a small
// organisation's process keeps GOGC 100.
var Default = Policy{Floor: 64 << 20, Fraction: 0.25, Min: 25, Max: 100}

// OneShot is the policy of a command that computes one answer and exits
// (candor scorecard, candor metric): started from the dataset's state it
// holds ~100 MiB of heap at scale 10 and allocates its answer in one
// burst, which under Default's 64 MiB of headroom took five collections,
// ~0.25 s of CPU of a ~1 s command. 128 MiB of headroom, or a quarter
// of the live heap past 512 MiB (a start from the store, which holds
// every row in the heap), keeps it to two or three. The headroom holds
// down to a live heap of 4 MiB (GOGC 3,200): at scale 1, where a start
// from the state holds ~8 MiB live, a cap of GOGC 200 made two more
// collections of a ~37 MiB burst (~10 ms of CPU, ~4 ms of a ~200 ms
// command).
var OneShot = Policy{Floor: 128 << 20, Fraction: 0.25, Min: 25, Max: 3200}

// Load is the policy while a process builds its dataset from rows (a
// start without a usable state): nobody reads it yet, and the garbage is
// the rows decoded ahead of the one applied, a few MiB, while a quarter
// of what is live grew to ~200 MiB at scale 10 — most of the peak above
// the data (docs/performance.md). 64 MiB of headroom, or a sixteenth of
// the live heap past 1 GiB.
var Load = Policy{Floor: 64 << 20, Fraction: 1.0 / 16, Min: 5, Max: 100}

// During puts p in force in place of the running pacer's policy until
// the returned function is called, which puts that policy back. With no
// pacer running (the operator's GOGC or GOMEMLIMIT, or a test) it does
// nothing. Nested calls must be restored in the reverse order: a restore
// finding another During's policy in force leaves it.
func During(p Policy) (restore func()) {
	mu.Lock()
	pc := running
	mu.Unlock()
	if pc == nil {
		return func() {}
	}
	old := pc.p.Swap(&p)
	pc.adjust()
	return sync.OnceFunc(func() {
		if pc.p.CompareAndSwap(&p, old) {
			pc.adjust()
		}
	})
}

// GOGC is the percentage that gives live bytes of heap the policy's
// headroom.
func (p Policy) GOGC(live uint64) int {
	if live == 0 {
		return p.Max
	}
	room := max(float64(p.Floor), p.Fraction*float64(live))
	g := int(100 * room / float64(live))
	return min(max(g, p.Min), p.Max)
}

// Enabled says whether the pacer should run in a process with this
// environment: not when the operator set GOGC or GOMEMLIMIT.
func Enabled(getenv func(string) string) bool {
	return getenv("GOGC") == "" && getenv("GOMEMLIMIT") == ""
}

var (
	mu      sync.Mutex
	running *pacer
)

type pacer struct {
	p       atomic.Pointer[Policy] // in force: Start's, or During's while it runs
	before  int                    // the GOGC in force before the first of the pacers Start ran
	stopped atomic.Bool
	set     atomic.Int64 // the GOGC last set
}

// sentinel is allocated once per collection cycle; its cleanup running
// says a collection has ended. 32 bytes: an object under 16 bytes without
// pointers may share a block with others (the tiny allocator) and then
// need not be freed, and its cleanup not run.
type sentinel struct{ _ [32]byte }

// Start runs the pacer until the returned function is called; the GOGC in
// force before is restored then. One pacer runs at a time: a second Start
// replaces the first's policy (the first's stop then does nothing, and the
// second's restores the GOGC from before the first).
func Start(p Policy) (stop func()) {
	mu.Lock()
	pc := &pacer{}
	pc.p.Store(&p)
	pc.before = debug.SetGCPercent(p.Max)
	if running != nil {
		// What is in force now is the replaced pacer's; what its stop
		// would have restored is what this one's must.
		running.stopped.Store(true)
		pc.before = running.before
	}
	running = pc
	pc.set.Store(int64(p.Max))
	mu.Unlock()
	pc.arm()
	pc.adjust()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			pc.stopped.Store(true)
			if running == pc {
				running = nil
				debug.SetGCPercent(pc.before)
			}
		})
	}
}

// arm allocates a sentinel whose cleanup, run once a collection found it
// unreachable, adjusts GOGC and arms the next one.
func (pc *pacer) arm() {
	s := new(sentinel)
	runtime.AddCleanup(s, func(pc *pacer) {
		if pc.stopped.Load() {
			return
		}
		pc.adjust()
		pc.arm()
	}, pc)
}

// adjust sets GOGC from the live heap the last collection measured.
func (pc *pacer) adjust() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	// The policy is read and the GOGC set under one lock: a collection's
	// adjust that read the policy During replaced must not write its
	// GOGC over the one During's own adjust set.
	mu.Lock()
	defer mu.Unlock()
	if pc.stopped.Load() {
		return
	}
	p := pc.p.Load()
	g := p.GOGC(s[0].Value.Uint64())
	// Setting GOGC recomputes the pacer's goal under the heap lock; a
	// change of a few points is not worth it.
	if old := int(pc.set.Load()); g == old || (g > old-3 && g < old+3 && g != p.Min && g != p.Max) {
		return
	}
	debug.SetGCPercent(g)
	pc.set.Store(int64(g))
}
