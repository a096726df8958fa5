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
// allow; under a Limit policy it also sets the runtime's memory limit
// just past that goal, so freed pages go back at once. Stopping it puts
// GOGC and the memory limit back as they were.
//
// An operator's own GOGC or GOMEMLIMIT wins: the pacer does not start.
package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
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
	// Limit has the runtime's memory limit follow the heap's goal: the
	// goal, plus what the runtime holds beside the heap's objects and
	// its free pages (stacks, metadata, the unused ends of spans), plus
	// Slack. Without it the pages a collection frees stay with the
	// process until the background scavenger, paced to ~1 % of a core,
	// gets to them: at scale 1 during a 1M-record import the runtime held
	// ~90 MiB of such pages beside ~230 MiB live, and they were part of
	// the process's peak (docs/performance.md). Under the limit the
	// runtime gives them back as it nears it, at some CPU on the
	// allocating goroutines: so only while the heap grows by bulk work —
	// a start building its dataset from rows (Load: at scale 10 its
	// 40–70 MiB of such pages set the benchmark's peak, 974–1,008 MiB
	// without the limit against a goal of 1,024), a server's large
	// catch-up (Bulk) — not for a server's requests (under Default a
	// scale-10 benchmark's webhooks took 7–24 % more CPU an event).
	Limit bool
}

// Slack is what a Limit policy's memory limit leaves above the heap's
// goal and the runtime's other memory: a collection ends while the
// program allocates, and a limit reached before the goal makes the
// collector run early (and, pressed, take up to half the CPU).
const Slack = 16 << 20

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
// the live heap past 1 GiB, and the memory limit: at scale 10 the pages
// its collections freed and the scavenger had not given back (40–70 MiB)
// set the benchmark's peak once the import no longer did.
var Load = Policy{Floor: 64 << 20, Fraction: 1.0 / 16, Min: 5, Max: 100, Limit: true}

// Bulk is the policy while a serving process applies a large catch-up
// (an import of many rows committed by another process or request) and
// until its next state takes those rows out of the heap, the writing of
// the image and state included: the heap grows by what is applied, the
// garbage is the rows decoded ahead and the readers' answers, and
// Default's 64 MiB of headroom with the pages it freed came on top of
// the data at the process's peak. 16 MiB of headroom, or a sixteenth of
// the live heap past 256 MiB; the memory limit follows. Until 2026-12-06
// it was 32 MiB and an eighth: 16 and a sixteenth had taken a 1M-record
// import at scale 10 from 87 to 109 s until readable (each collection
// marks the whole heap) for ~40 MiB less; once the reads served during
// such an import allocated a fifth less (a drill-down's page no longer
// copied, a scorecard's cards no longer grown), it took ~15 MiB off the
// scale-1 peak with the reads' p99 and the time until readable as they
// were (docs/performance.md).
var Bulk = Policy{Floor: 16 << 20, Fraction: 1.0 / 16, Min: 5, Max: 100, Limit: true}

// During puts p in force in place of the running pacer's policy until
// the returned function is called. With no pacer running (the operator's
// GOGC or GOMEMLIMIT, or a test) it does nothing. Calls may overlap and
// end in any order (a large catch-up on the follower beside an image
// written on another goroutine): the latest of those not yet ended is in
// force, and once all have ended the pacer's own policy is again.
func During(p Policy) (restore func()) {
	mu.Lock()
	pc := running
	if pc == nil {
		mu.Unlock()
		return func() {}
	}
	mine := &p
	pc.over = append(pc.over, mine)
	mu.Unlock()
	pc.adjust()
	return sync.OnceFunc(func() {
		mu.Lock()
		pc.over = slices.DeleteFunc(pc.over, func(q *Policy) bool { return q == mine })
		mu.Unlock()
		pc.adjust()
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
	p       Policy    // Start's
	over    []*Policy // During's not yet ended, the latest last (under mu)
	before  int       // the GOGC in force before the first of the pacers Start ran
	limit   int64     // the memory limit in force before it
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
	pc.p = p
	pc.before = debug.SetGCPercent(p.Max)
	pc.limit = debug.SetMemoryLimit(-1)
	if running != nil {
		// What is in force now is the replaced pacer's; what its stop
		// would have restored is what this one's must.
		running.stopped.Store(true)
		pc.before, pc.limit = running.before, running.limit
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
				debug.SetMemoryLimit(pc.limit)
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

// samples are what adjust reads from the runtime: the live heap, and for
// a Limit policy the memory the runtime holds beside the heap's objects
// and free pages (total − objects − free − released).
var samples = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
}

// adjust sets GOGC (and for a Limit policy the memory limit) from the
// live heap the last collection measured.
func (pc *pacer) adjust() {
	// The runtime is read, the policy looked up and GOGC and the limit
	// set under one lock: a collection's adjust that read the policy a
	// During replaced, or the heap before a later adjust read it, must
	// not write over what that later one set.
	mu.Lock()
	defer mu.Unlock()
	if pc.stopped.Load() {
		return
	}
	s := make([]metrics.Sample, len(samples))
	for i, n := range samples {
		s[i].Name = n
	}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != metrics.KindUint64 {
			return
		}
	}
	live := s[0].Value.Uint64()
	total, objects, free, released := s[1].Value.Uint64(), s[2].Value.Uint64(), s[3].Value.Uint64(), s[4].Value.Uint64()
	p := pc.p
	if n := len(pc.over); n > 0 {
		p = *pc.over[n-1]
	}
	// Setting GOGC recomputes the pacer's goal under the heap lock; a
	// change of a few points is not worth it.
	g, old := p.GOGC(live), int(pc.set.Load())
	if g != old && (g <= old-3 || g >= old+3 || g == p.Min || g == p.Max) {
		debug.SetGCPercent(g)
		pc.set.Store(int64(g))
	} else {
		g = old
	}
	if p.Limit {
		debug.SetMemoryLimit(p.limit(live, g, total-min(total, objects+free+released)))
	} else {
		debug.SetMemoryLimit(pc.limit)
	}
}

// limit is the memory limit of a Limit policy for live bytes of heap
// under GOGC g, with other bytes of the runtime's memory beside the
// heap's objects and free pages: the goal, a thirty-second of it (under
// a limit the runtime aims its heap 3 % below what the limit leaves, so
// past ~500 MiB the limit and not GOGC would set the goal), the other
// memory and Slack.
func (p Policy) limit(live uint64, g int, other uint64) int64 {
	const most = math.MaxInt64 / 2 // no limit, in effect
	if live > most/uint64(100+max(g, 0)) || other > most {
		return most
	}
	goal := live + live*uint64(max(g, 0))/100
	if live == 0 {
		goal = p.Floor
	}
	return int64(min(goal+goal/32+other+Slack, most))
}
