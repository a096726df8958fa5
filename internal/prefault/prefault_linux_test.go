package prefault

import (
	"encoding/binary"
	"errors"
	"os"
	"syscall"
	"testing"
)

// present counts the pages of [lo, hi) this process has in its page
// tables (the present bit of /proc/self/pagemap).
func present(t *testing.T, r [2]uintptr) (n, of int) {
	t.Helper()
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("no page tables to read: %v", err)
	}
	defer f.Close()
	ps := uintptr(os.Getpagesize())
	of = int((r[1] - r[0]) / ps)
	buf := make([]byte, 8*of)
	if k, err := f.ReadAt(buf, int64(r[0]/ps*8)); k < len(buf) {
		t.Fatalf("reading /proc/self/pagemap: %v", err)
	}
	for i := range of {
		if binary.LittleEndian.Uint64(buf[8*i:])>>63 == 1 {
			n++
		}
	}
	return n, of
}

// The test binary's code and constant data are mapped whole once
// Executable returns; before, only what ran since they were let go is.
func TestExecutableMapsItsPages(t *testing.T) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		t.Skip(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip(err)
	}
	ranges, err := readOnlyRanges(maps, st.Dev, st.Ino)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) < 2 {
		t.Fatalf("found %d read-only mappings of the executable in\n%s", len(ranges), maps)
	}
	// Let go of the pages first (they are the file's, never written, so
	// they fault back in unchanged where this test runs on): a small
	// binary faults in most of itself a few pages at a time.
	for _, r := range ranges {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], syscall.MADV_DONTNEED); e != 0 {
			t.Fatal(e)
		}
	}
	before, total := 0, 0
	for _, r := range ranges {
		n, of := present(t, r)
		before += n
		total += of
	}
	if before == total {
		t.Fatalf("all %d pages mapped before: the test proves nothing", total)
	}
	n, err := Executable()
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("the kernel cannot populate a mapping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if want := total * os.Getpagesize(); n != want {
		t.Errorf("advised %d bytes, the read-only mappings hold %d", n, want)
	}
	after := 0
	for _, r := range ranges {
		k, _ := present(t, r)
		after += k
	}
	if after != total {
		t.Errorf("%d of %d pages mapped after Executable (%d before)", after, total, before)
	}
}

func TestReadOnlyRanges(t *testing.T) {
	maps := []byte(`00400000-00c5d000 r-xp 00000000 fe:01 1326880                            /usr/bin/candor
00c5d000-01a0f000 r--p 0085d000 fe:01 1326880                            /usr/bin/candor
01a0f000-01a8c000 rw-p 0160f000 fe:01 1326880                            /usr/bin/candor
01a8c000-01ad0000 rw-p 00000000 00:00 0 
7f0000000000-7f0000001000 r--p 00000000 fe:02 1326880                    /other/fs/same-inode
7f0000002000-7f0000003000 r--p 00000000 fe:01 1326881                    /usr/bin/other
`)
	got, err := readOnlyRanges(maps, 0xfe01, 1326880)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]uintptr{{0x400000, 0xc5d000}, {0xc5d000, 0x1a0f000}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %x, want %x", got, want)
	}
	if _, err := readOnlyRanges([]byte("zz-00 r-xp 0 fe:01 1326880 /x\n"), 0xfe01, 1326880); err == nil {
		t.Error("a damaged line was taken")
	}
}
