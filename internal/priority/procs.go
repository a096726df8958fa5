package priority

import (
	"os"
	"runtime"
	"sync"
)

// Go's scheduler runs a goroutine that becomes runnable — a request whose
// bytes arrived — only when one of GOMAXPROCS Ps is free, and bulk work
// keeps every P busy for up to 10 ms at a time before it is preempted; a
// read then waits in the run queue behind an import's parser and the
// follower, however little CPU it needs. With twice as many Ps as cores,
// a woken request gets a P at once and its thread competes for a core
// under the kernel's scheduler, which favours a thread that has just
// woken over ones that have run their share. Background waits still keep
// bulk work behind requests; this removes the queue in front of them.
// Measured (docs/performance.md, "Twice as many Ps as cores"): at scale 1
// the reads' p99 during a 300,000-record import fell from 115–132 ms to
// 37–47. Bulk work keeps spreading over Cores goroutines, not GOMAXPROCS:
// more workers than cores only adds switching.

var procs struct {
	sync.Mutex
	cores   int // GOMAXPROCS before any server raised it
	serving int // servers running
	before  int
}

// Cores is how many goroutines bulk work spreads over: GOMAXPROCS as the
// process set it before a server raised it (ForServing).
func Cores() int {
	procs.Lock()
	defer procs.Unlock()
	if procs.serving > 0 {
		return procs.cores
	}
	return runtime.GOMAXPROCS(0)
}

// ForServing gives the scheduler twice as many Ps as Cores while a server
// runs (`candor serve`), unless the operator set GOMAXPROCS or a CPU quota
// holds the process below the machine's CPUs; restore puts the number back
// when the last server stops.
func ForServing() (restore func()) {
	procs.Lock()
	defer procs.Unlock()
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	if procs.serving == 0 {
		procs.cores = runtime.GOMAXPROCS(0)
		procs.before = procs.cores
		// Fewer Ps than the machine's CPUs: a CPU quota set them (Go
		// follows a cgroup's limit). Threads past a quota are throttled
		// for the rest of its period, a longer wait than the run queue's,
		// so the number is left as it is.
		if procs.cores >= runtime.NumCPU() {
			procs.before = runtime.GOMAXPROCS(2 * procs.cores)
		}
	}
	procs.serving++
	var once sync.Once
	return func() {
		once.Do(func() {
			procs.Lock()
			defer procs.Unlock()
			if procs.serving--; procs.serving == 0 {
				runtime.GOMAXPROCS(procs.before)
			}
		})
	}
}
