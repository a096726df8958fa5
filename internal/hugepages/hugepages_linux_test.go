package hugepages

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The heap's huge pages are measured in a process of their own: what the
// test binary allocated before would blur them.
func TestBackedHeapTakesHugePages(t *testing.T) {
	if mode := os.Getenv("CANDOR_HUGEPAGES_CHILD"); mode != "" {
		child(mode)
		return
	}
	thp, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(thp, []byte("[never]")) {
		t.Skipf("this kernel gives no transparent huge pages (%q, %v): nothing to back the heap with", bytes.TrimSpace(thp), err)
	}
	backed, plain := childHuge(t, "back"), childHuge(t, "plain")
	t.Logf("transparent_hugepage %s: 48 MiB of small objects, AnonHugePages %d KiB backed, %d KiB not", bytes.TrimSpace(thp), backed, plain)
	// Most of what the child allocated lies in 2 MiB pages; only their
	// partly filled ends, and what the runtime placed below the range,
	// may not.
	if backed < 32<<10 {
		t.Errorf("after Back, 48 MiB of small objects lie in %d KiB of huge pages, want at least 32 MiB", backed)
	}
	// Where huge pages are given only where asked, the heap not backed
	// must have far fewer: else the test says nothing of Back.
	if bytes.Contains(thp, []byte("[madvise]")) && plain > backed/2 {
		t.Errorf("without Back %d KiB of huge pages, with it %d KiB: Back made no difference", plain, backed)
	}
	t.Setenv("GODEBUG", "disablethp=1")
	if Back(Size) {
		t.Error("Back took the advice under GODEBUG=disablethp=1")
	}
}

// The last disablethp setting of GODEBUG wins, as it does for Go.
func TestTHPDisabled(t *testing.T) {
	for godebug, want := range map[string]bool{
		"": false, "disablethp=1": true, "disablethp=0": false, "gctrace=1,disablethp=1": true,
		"disablethp=1,disablethp=0": false, "disablethp=0,disablethp=1": true, "xdisablethp=1": false,
	} {
		if got := thpDisabled(godebug); got != want {
			t.Errorf("GODEBUG=%q: disabled %v, want %v", godebug, got, want)
		}
	}
}

func childHuge(t *testing.T, mode string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBackedHeapTakesHugePages$")
	cmd.Env = append(os.Environ(), "CANDOR_HUGEPAGES_CHILD="+mode, "GOGC=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "huge "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("child %s printed %q", mode, line)
			}
			return n
		}
	}
	t.Fatalf("child %s printed no figure:\n%s", mode, out)
	return 0
}

var keep [][]byte

// child allocates 48 MiB of small objects, as a scorecard's burst does,
// and prints the resident huge pages of its anonymous memory.
func child(mode string) {
	if mode == "back" && !Back(Size) {
		fmt.Println("madvise refused")
	}
	for range (48 << 20) / 64 {
		keep = append(keep, make([]byte, 64))
	}
	for _, b := range keep {
		b[0] = 1
	}
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "AnonHugePages:"); ok {
			fmt.Println("huge", strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
}
