package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPolicyGOGC(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100},         // nothing measured yet
		{10 * mib, 100},  // 64 MiB of room is more than GOGC 100 gives
		{64 * mib, 100},  // exactly GOGC 100
		{100 * mib, 64},  // scale 1: the floor
		{256 * mib, 25},  // the floor meets a quarter
		{900 * mib, 25},  // scale 10: a quarter
		{4096 * mib, 25}, // never below Min
		{128 * mib, 50},  // half
		{1 * mib, 100},   // never above Max
		{65 * mib, 98},   // just under GOGC 100
		{300 * mib, 25},  // a quarter again
		{200 * mib, 32},  // 64/200
		{160 * mib, 40},  // 64/160
		{512 * mib, 25},  // a quarter
		{2 * 1024 * mib, 25},
	} {
		if got := Default.GOGC(c.live); got != c.want {
			t.Errorf("GOGC(%d MiB) = %d, want %d", c.live/mib, got, c.want)
		}
	}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{100 * mib, 128}, // scale 10 from the state: the floor, past GOGC 100
		{50 * mib, 256},  // the floor
		{8 * mib, 1600},  // scale 1 from the state: the floor
		{1 * mib, 3200},  // never above Max
		{512 * mib, 25},  // the floor meets a quarter
		{900 * mib, 25},  // from the store: a quarter
	} {
		if got := OneShot.GOGC(c.live); got != c.want {
			t.Errorf("OneShot GOGC(%d MiB) = %d, want %d", c.live/mib, got, c.want)
		}
	}
	low := Policy{Floor: 0, Fraction: 0.1, Min: 5, Max: 80}
	if got := low.GOGC(100 * mib); got != 10 {
		t.Errorf("a tenth: GOGC = %d, want 10", got)
	}
}

func TestEnabledLeavesTheOperatorsSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if !Enabled(env(nil)) {
		t.Error("no GOGC, no GOMEMLIMIT: the pacer should run")
	}
	if Enabled(env(map[string]string{"GOGC": "50"})) {
		t.Error("GOGC set: the pacer should not run")
	}
	if Enabled(env(map[string]string{"GOMEMLIMIT": "1GiB"})) {
		t.Error("GOMEMLIMIT set: the pacer should not run")
	}
}

// gogc reads the GOGC in force from the runtime itself.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// waitGOGC collects until the runtime's GOGC is want: the pacer adjusts
// after a collection, when the runtime runs the sentinel's cleanup.
func waitGOGC(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for gogc() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d, want %d", gogc(), want)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

var kept []byte

// startPacer starts a pacer under p for the test, GOGC 77 in force
// before it and what earlier tests kept collected; the test's end stops
// it (stopping again does nothing) and puts GOGC back.
func startPacer(t *testing.T, p Policy) (stop func()) {
	t.Helper()
	old := debug.SetGCPercent(77)
	collectAll()
	stop = Start(p)
	t.Cleanup(func() {
		stop()
		collectAll()
		debug.SetGCPercent(old)
	})
	return stop
}

// keepLive keeps n bytes live, touched so that they are resident.
func keepLive(n int) {
	kept = make([]byte, n)
	for i := range kept {
		kept[i] = byte(i)
	}
}

// collectAll drops what the tests kept and collects, so the live heap the
// next Start reads is the test binary's own few MiB.
func collectAll() {
	kept = nil
	runtime.GC()
	runtime.GC()
}

func TestPacerFollowsTheLiveHeap(t *testing.T) {
	stop := startPacer(t, Policy{Floor: 8 << 20, Fraction: 0.25, Min: 25, Max: 100})
	if got := gogc(); got != 100 {
		t.Errorf("after Start: GOGC %d, want 100 (a small heap keeps the most room)", got)
	}
	// 128 MiB live: a quarter is 32 MiB, over the 8 MiB floor, so GOGC 25.
	keepLive(128 << 20)
	waitGOGC(t, 25)
	// Let it go: a few MiB live want 8 MiB of room, more than GOGC 100.
	kept = nil
	waitGOGC(t, 100)
	stop()
	if got := gogc(); got != 77 {
		t.Errorf("after stop: GOGC %d, want 77 (what it was before Start)", got)
	}
	// A stopped pacer sets nothing more, however the live heap moves.
	debug.SetGCPercent(61)
	kept = make([]byte, 128<<20)
	for range 5 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if got := gogc(); got != 61 {
		t.Errorf("a stopped pacer changed GOGC to %d", got)
	}
}

// A second Start replaces the first pacer; stopping both, in either
// order, leaves the GOGC from before the first.
func TestSecondStartRestoresTheFirstsGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(77))
	collectAll()
	defer collectAll()
	p := Policy{Floor: 8 << 20, Fraction: 0.25, Min: 25, Max: 100}
	for _, secondFirst := range []bool{false, true} {
		stop1 := Start(p)
		kept = make([]byte, 128<<20)
		waitGOGC(t, 25)
		stop2 := Start(p) // GOGC 25 is in force: not what to restore
		if secondFirst {
			stop2()
			stop1()
		} else {
			stop1()
			stop2()
		}
		if got := gogc(); got != 77 {
			t.Errorf("second stopped first %v: GOGC %d, want 77", secondFirst, got)
		}
		collectAll()
	}
}

// During puts its policy in force over the running pacer's and gives it
// back; with no pacer running it changes nothing.
func TestDuringTightensAndGivesBack(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(77))
	collectAll()
	defer collectAll()
	if restore := During(Load); gogc() != 77 {
		t.Fatalf("During with no pacer running set GOGC %d", gogc())
	} else {
		restore()
	}
	stop := Start(Policy{Floor: 8 << 20, Fraction: 0.25, Min: 25, Max: 100})
	defer stop()
	// 128 MiB live: a quarter is GOGC 25, a sixteenth 6.
	keepLive(128 << 20)
	waitGOGC(t, 25)
	restore := During(Policy{Floor: 8 << 20, Fraction: 1.0 / 16, Min: 5, Max: 100})
	waitGOGC(t, 6)
	restore()
	waitGOGC(t, 25)
	kept = nil
}

// memLimit reads the memory limit in force without changing it.
func memLimit() int64 { return debug.SetMemoryLimit(-1) }

// A Limit policy's memory limit follows the heap's goal (the live heap
// and its headroom) plus the runtime's other memory and Slack, and the
// limit from before Start is back after stop.
func TestLimitFollowsTheGoal(t *testing.T) {
	// Put back after the pacer's stop (cleanups run last first).
	oldLimit := debug.SetMemoryLimit(1 << 40)
	t.Cleanup(func() { debug.SetMemoryLimit(oldLimit) })
	stop := startPacer(t, Policy{Floor: 8 << 20, Fraction: 0.25, Min: 25, Max: 100, Limit: true})
	keepLive(128 << 20)
	waitGOGC(t, 25)
	// 128 MiB and a few live, a quarter of headroom: a goal of ~160 MiB.
	// The runtime's other memory in a test binary is a few MiB.
	if got := memLimit(); got < 165<<20+Slack || got > 165<<20+Slack+64<<20 {
		t.Errorf("limit %d MiB with 128 MiB live under GOGC 25: want the goal (~160) and a thirty-second of it + Slack (%d) + the runtime's other memory", got>>20, Slack>>20)
	}
	kept = nil
	waitGOGC(t, 100)
	// A few MiB live: the floor's 8 MiB of headroom is more than GOGC 100
	// gives, so the goal is twice what is live.
	if got := memLimit(); got > 64<<20+Slack {
		t.Errorf("limit %d MiB with a few MiB live: it should have come down with the heap", got>>20)
	}
	// A policy without Limit put in force gives the limit from before
	// Start back, and its end takes it up again.
	restore := During(Policy{Floor: 8 << 20, Fraction: 0.25, Min: 25, Max: 100})
	if got := memLimit(); got != 1<<40 {
		t.Errorf("During a policy without Limit: limit %d, want the one from before Start (%d)", got, int64(1<<40))
	}
	restore()
	if got := memLimit(); got == 1<<40 {
		t.Error("after During ended: the Limit policy's limit should be back in force")
	}
	stop()
	if got := memLimit(); got != 1<<40 {
		t.Errorf("after stop: limit %d, want %d (what it was before Start)", got, int64(1<<40))
	}
}

func TestPolicyLimit(t *testing.T) {
	const mib = 1 << 20
	p := Policy{Floor: 16 * mib, Fraction: 1.0 / 16, Min: 5, Max: 100, Limit: true}
	for _, c := range []struct {
		live, other uint64
		g           int
		want        int64
	}{
		{0, 4 * mib, 100, 16*mib + mib/2 + 4*mib + Slack},           // nothing measured: the floor
		{128 * mib, 10 * mib, 25, 160*mib + 5*mib + 10*mib + Slack}, // the goal at GOGC 25, and a thirty-second of it
		{256 * mib, 0, 6, (256*mib+256*mib*6/100)*33/32 + Slack},    // a sixteenth, as a whole percent
		{1 << 62, 1 << 62, 100, math.MaxInt64 / 2},                  // no overflow
		{1 << 53, 0, 3200, math.MaxInt64 / 2},                       // nor under OneShot's highest GOGC
	} {
		if got := p.limit(c.live, c.g, c.other); got != c.want {
			t.Errorf("limit(live %d MiB, GOGC %d, other %d MiB) = %d, want %d", c.live/mib, c.g, c.other/mib, got, c.want)
		}
	}
}

// During calls that overlap may end in any order: the latest not yet
// ended is in force, and the pacer's own policy once all have.
func TestDuringOverlapping(t *testing.T) {
	startPacer(t, Policy{Floor: 8 << 20, Fraction: 0.25, Min: 25, Max: 100})
	keepLive(128 << 20)
	waitGOGC(t, 25)
	a := During(Policy{Floor: 8 << 20, Fraction: 1.0 / 16, Min: 5, Max: 100}) // GOGC 6
	waitGOGC(t, 6)
	b := During(Policy{Floor: 8 << 20, Fraction: 1.0 / 8, Min: 5, Max: 100}) // GOGC 12
	waitGOGC(t, 12)
	a() // the first ends first: the second stays in force
	waitGOGC(t, 12)
	b()
	waitGOGC(t, 25)
	a() // ending twice changes nothing
	waitGOGC(t, 25)
	kept = nil
}

// The memory limit is set only while the heap grows by bulk work: a
// start building its dataset from rows and a server's large catch-up;
// not for a server's requests nor a one-shot command's burst.
func TestPoliciesThatLimit(t *testing.T) {
	for name, c := range map[string]struct {
		p    Policy
		want bool
	}{
		"Default": {Default, false},
		"OneShot": {OneShot, false},
		"Load":    {Load, true},
		"Bulk":    {Bulk, true},
	} {
		if c.p.Limit != c.want {
			t.Errorf("%s.Limit = %v, want %v", name, c.p.Limit, c.want)
		}
	}
}
