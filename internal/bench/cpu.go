package bench

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, user and system: a cost
// that, unlike wall time, other work on a shared machine does not inflate
// (only the cache and frequency effects of sharing remain).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuPer is the CPU time since c0 per n operations, in microseconds.
func cpuPer(c0 time.Duration, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64((cpuTime() - c0).Microseconds()) / float64(n)
}
