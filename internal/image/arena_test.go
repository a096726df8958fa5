package image

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

// An arena hands out zeroed whole pages; what is written there survives
// its pages leaving the resident set (Release, Done), which they do; it
// refuses to give back memory it did not hand out; and its file leaves
// nothing behind in its directory.
func TestArenaKeepsWhatLeavesTheResidentSet(t *testing.T) {
	dir := t.TempDir()
	a, err := NewArena(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the arena's file is left in its directory: %v", ents[0].Name())
	}
	ps := os.Getpagesize()
	var chunks [][]byte
	for i, n := range []int{ps, 3*ps + 1, arenaSeg, 5 * ps} {
		b := a.Chunk(n)
		if len(b) < n || len(b)%ps != 0 || uintptr(unsafe.Pointer(&b[0]))%uintptr(ps) != 0 {
			t.Fatalf("chunk %d of %d bytes: %d bytes at %#x, want whole pages from a page's start", i, n, len(b), uintptr(unsafe.Pointer(&b[0])))
		}
		for j, c := range b {
			if c != 0 {
				t.Fatalf("chunk %d not zeroed at %d", i, j)
			}
		}
		for j := range b {
			b[j] = byte(i*7 + j)
		}
		chunks = append(chunks, b)
	}
	check := func(when string) {
		t.Helper()
		for i, b := range chunks {
			for j, c := range b {
				if c != byte(i*7+j) {
					t.Fatalf("%s: chunk %d reads %d at %d, want %d", when, i, c, j, byte(i*7+j))
				}
			}
		}
	}
	resident, pages, err := a.Resident()
	if err != nil {
		t.Skipf("no /proc/self/pagemap here: %v", err)
	}
	if resident < (len(chunks[0])+len(chunks[1])+len(chunks[2]))/ps {
		t.Fatalf("%d of %d pages resident after writing them all", resident, pages)
	}
	if err := a.Done(chunks[2]); err != nil {
		t.Fatal(err)
	}
	if after, _, _ := a.Resident(); after > resident-len(chunks[2])/ps {
		t.Errorf("%d pages resident after giving back a chunk of %d pages, %d before", after, len(chunks[2])/ps, resident)
	}
	check("after Done")
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if after, _, _ := a.Resident(); after != 0 {
		t.Errorf("%d pages resident after Release", after)
	}
	check("after Release")
	heap := make([]byte, 4*ps)
	heap[2*ps] = 1
	if err := a.Done(heap); err == nil || !strings.Contains(err.Error(), "did not hand out") {
		t.Errorf("Done of heap memory: %v, want it refused", err)
	}
	if heap[2*ps] != 1 {
		t.Error("Done of heap memory threw a write away")
	}
	if a.Bytes() < 2*arenaSeg {
		t.Errorf("the file is %d bytes after a chunk of a whole segment and others", a.Bytes())
	}
}

// A closed arena hands out nothing: a slab then allocates on the heap.
func TestArenaClosed(t *testing.T) {
	a, err := NewArena(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if b := a.Chunk(4096); b != nil {
		t.Errorf("a closed arena handed out %d bytes", len(b))
	}
	if _, err := NewArena(t.TempDir() + "/missing"); err == nil {
		t.Error("an arena in a directory that does not exist")
	}
}
