package image

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An arena hands out zeroed whole pages; what is written there survives
// its pages leaving the resident set (Release, Done), which they do; it
// refuses to give back memory it did not hand out; its file has no name
// in its directory, and once it is closed nothing maps it.
func TestArenaKeepsWhatLeavesTheResidentSet(t *testing.T) {
	dir := t.TempDir()
	a, err := NewArena(dir, true)
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
		if b == nil {
			t.Fatalf("chunk %d of %d bytes refused (no fallocate on this file system?)", i, n)
		}
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
	if got, want := a.HandedOut(), int64(ps+4*ps+arenaSeg+5*ps); got != want {
		t.Errorf("%d bytes handed out, want %d", got, want)
	}
	if a.Bytes() < 2*arenaSeg {
		t.Errorf("the file is %d bytes after a chunk of a whole segment and others", a.Bytes())
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
	heap := make([]byte, 4*ps)
	heap[2*ps] = 1
	if err := a.Done(heap); !errors.Is(err, errNotHandedOut) {
		t.Errorf("Done of heap memory: %v, want it refused", err)
	}
	if heap[2*ps] != 1 {
		t.Error("Done of heap memory threw a write away")
	}

	resident, pages, err := a.Resident()
	if err != nil {
		t.Fatalf("reading /proc/self/pagemap: %v", err)
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

	var st syscall.Stat_t
	if err := syscall.Fstat(int(a.f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	inode := fmt.Sprint(st.Ino)
	mapsOf := func() int {
		b, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 5 && f[4] == inode {
				n++
			}
		}
		return n
	}
	if n := mapsOf(); n == 0 {
		t.Fatalf("no mapping of the arena's file (inode %s) in /proc/self/maps", inode)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := mapsOf(); n != 0 {
		t.Errorf("%d mappings of the arena's file left after Close", n)
	}
	if b := a.Chunk(ps); b != nil {
		t.Errorf("a closed arena handed out %d bytes", len(b))
	}
}

// An arena keeps its file only on a file system whose reserved space a
// write through the mapping keeps: not in memory (tmpfs: each segment
// taken at once, nothing given back), not copy-on-write.
func TestArenaFileSystems(t *testing.T) {
	for _, c := range []struct {
		name  string
		magic int64
		ok    bool
	}{
		{"ext4", unix.EXT4_SUPER_MAGIC, true},
		{"xfs", unix.XFS_SUPER_MAGIC, true},
		{"tmpfs", unix.TMPFS_MAGIC, false},
		{"ramfs", unix.RAMFS_MAGIC, false},
		{"btrfs", unix.BTRFS_SUPER_MAGIC, false},
		{"overlay", unix.OVERLAYFS_SUPER_MAGIC, false},
		{"nfs", unix.NFS_SUPER_MAGIC, false},
	} {
		if got := ArenaFileSystem(c.magic); got != c.ok {
			t.Errorf("%s: ArenaFileSystem %v, want %v", c.name, got, c.ok)
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		if a, err := NewArena("/dev/shm", false); err == nil {
			a.Close()
			t.Error("an arena in /dev/shm (tmpfs)")
		} else if !strings.Contains(err.Error(), "/dev/shm") {
			t.Errorf("refused in /dev/shm without naming it: %v", err)
		}
	}
	if _, err := NewArena(t.TempDir()+"/missing", true); err == nil {
		t.Error("an arena in a directory that does not exist")
	}
}
