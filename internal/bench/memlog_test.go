package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The memory log samples every quarter second until stopped, interleaves
// the phase lines, and keeps a heap profile from the highest resident
// set; without a path there is none, and its methods do nothing.
func TestMemLog(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status")
	}
	none, err := startMemLog("")
	if none != nil || err != nil {
		t.Fatalf("no path: %v, %v", none, err)
	}
	none.phase("nothing")
	if err := none.stop(); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "mem.log")
	m, err := startMemLog(path)
	if err != nil {
		t.Fatal(err)
	}
	m.phase("a phase …")
	// Resident memory well past the rise that takes a profile.
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	time.Sleep(3 * memLogEvery)
	runtime.KeepAlive(b)
	if err := m.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	samples, phases, profiles := 0, 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.HasPrefix(line, "# ") && strings.Contains(line, "a phase …"):
			phases++
		case strings.HasPrefix(line, "# ") && strings.Contains(line, "heap profile at"):
			profiles++
		case strings.HasPrefix(line, "#"):
		default:
			if f := strings.Fields(line); len(f) != 4+len(memLogSamples) {
				t.Errorf("a sample of %d fields: %q", len(f), line)
			}
			samples++
		}
	}
	if samples < 3 || phases != 1 || profiles < 1 {
		t.Errorf("%d samples, %d phase lines, %d heap profiles in\n%s", samples, phases, profiles, out)
	}
	heap, err := os.ReadFile(path + ".heap")
	if err != nil || len(heap) < 2 || heap[0] != 0x1f || heap[1] != 0x8b {
		t.Errorf("no gzipped heap profile beside the log: %v", err)
	}
}
