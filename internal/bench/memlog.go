package bench

import (
	"bufio"
	"fmt"
	"os"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// A memory log (CANDOR_BENCH_MEMLOG=FILE) samples the process's memory
// every memLogEvery while the benchmark runs: the resident set split into
// anonymous and file pages (a mapped state's pages are file pages), and
// the Go heap's classes. The peak_rss figures say how high the process
// went; this says when, in which phase, and of what — and FILE.heap holds
// a heap profile taken at the highest resident set seen (whenever it rose
// by memLogRise or more), which is what found the image's key
// fingerprints at the scale-1 peak (docs/performance.md). A peak shorter
// than a sample's interval shows in VmHWM and not here.
type memLog struct {
	path string
	mu   sync.Mutex
	w    *bufio.Writer
	f    *os.File
	t0   time.Time
	high float64 // the highest resident set a heap profile was taken at, MiB
	quit chan struct{}
	done sync.WaitGroup
}

const (
	memLogEvery = 250 * time.Millisecond
	memLogRise  = 8 // MiB
)

var memLogSamples = []string{
	"/gc/heap/live:bytes",
	"/gc/heap/goal:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/total:bytes",
}

// startMemLog starts sampling into path (nil, nil when path is "").
func startMemLog(path string) (*memLog, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	m := &memLog{path: path, f: f, w: bufio.NewWriter(f), t0: time.Now(), quit: make(chan struct{})}
	fmt.Fprintln(m.w, "# seconds rss_mib anon_mib file_mib heap_live heap_goal heap_objects heap_free heap_unused heap_released go_total (MiB); '#' lines are the phases")
	m.done.Go(m.run)
	return m, nil
}

func (m *memLog) run() {
	t := time.NewTicker(memLogEvery)
	defer t.Stop()
	s := make([]rtmetrics.Sample, len(memLogSamples))
	for i, name := range memLogSamples {
		s[i].Name = name
	}
	for {
		m.sample(s)
		select {
		case <-m.quit:
			return
		case <-t.C:
		}
	}
}

func (m *memLog) sample(s []rtmetrics.Sample) {
	rtmetrics.Read(s)
	st := statusFieldsMiB("/proc/self/status", "VmRSS:", "RssAnon:", "RssFile:")
	rss := st[0]
	m.mu.Lock()
	fmt.Fprintf(m.w, "%.2f %.0f %.0f %.0f", time.Since(m.t0).Seconds(), rss, st[1], st[2])
	for i := range s {
		v := 0.0
		if s[i].Value.Kind() == rtmetrics.KindUint64 {
			v = float64(s[i].Value.Uint64()) / (1 << 20)
		}
		fmt.Fprintf(m.w, " %.0f", v)
	}
	fmt.Fprintln(m.w)
	rose := rss >= m.high+memLogRise
	if rose {
		m.high = rss
	}
	m.mu.Unlock()
	if rose {
		m.heapProfile(rss)
	}
}

// heapProfile writes the heap profile beside the log, replacing the one
// taken at a lower resident set.
func (m *memLog) heapProfile(rss float64) {
	tmp := m.path + ".heap.tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && os.Rename(tmp, m.path+".heap") == nil {
		m.phase(fmt.Sprintf("heap profile at %.0f MiB resident", rss))
	}
}

// phase writes a line of the phase log into the memory log, so its
// samples can be read by phase.
func (m *memLog) phase(line string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(m.w, "# %.2f %s\n", time.Since(m.t0).Seconds(), line)
}

// stop ends the sampling and closes the log.
func (m *memLog) stop() error {
	if m == nil {
		return nil
	}
	close(m.quit)
	m.done.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.w.Flush()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	return err
}
