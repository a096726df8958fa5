package prefault

import (
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// The bits of a /proc/self/pagemap entry this test reads.
const (
	pmPresent = 1 << 63 // in the page tables
	pmSwapped = 1 << 62
	pmFile    = 1 << 61 // the file's page (or shared), not this process's copy
)

// pagemap returns the /proc/self/pagemap entries of the pages of r.
func pagemap(t *testing.T, r [2]uintptr) []uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("no page tables to read: %v", err)
	}
	defer f.Close()
	ps := uintptr(os.Getpagesize())
	of := int((r[1] - r[0]) / ps)
	buf := make([]byte, 8*of)
	if k, err := f.ReadAt(buf, int64(r[0]/ps*8)); k < len(buf) {
		t.Fatalf("reading /proc/self/pagemap: %v", err)
	}
	out := make([]uint64, of)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	return out
}

// present counts the pages of r this process has in its page tables, and
// all its pages.
func present(t *testing.T, r [2]uintptr) (n, of int) {
	t.Helper()
	pm := pagemap(t, r)
	for _, e := range pm {
		if e&pmPresent != 0 {
			n++
		}
	}
	return n, len(pm)
}

// letGo drops from the page tables the pages of r that are still the
// file's, which fault back in unchanged: not those the process wrote
// before making them read-only — the relocated pointers of a PIE
// binary's or a dynamically linked one's RELRO segment, which
// MADV_DONTNEED would put back to the file's unrelocated bytes.
func letGo(t *testing.T, r [2]uintptr) {
	t.Helper()
	ps := uintptr(os.Getpagesize())
	pm := pagemap(t, r)
	own := func(e uint64) bool { return e&pmSwapped != 0 || e&pmPresent != 0 && e&pmFile == 0 }
	for i := 0; i < len(pm); {
		if own(pm[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(pm) && !own(pm[j]) {
			j++
		}
		lo := r[0] + uintptr(i)*ps
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, lo, uintptr(j-i)*ps, syscall.MADV_DONTNEED); e != 0 {
			t.Fatal(e)
		}
		i = j
	}
}

// The test binary's code and constant data are mapped whole once
// Executable returns; before, only what ran since they were let go is.
func TestExecutableMapsItsPages(t *testing.T) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip(err)
	}
	pc, _, _, _ := runtime.Caller(0)
	ranges, err := readOnlyRanges(maps, pc)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) < 2 {
		t.Fatalf("found %d read-only mappings of the executable in\n%s", len(ranges), maps)
	}
	// A small binary faults in most of itself a few pages at a time.
	for _, r := range ranges {
		letGo(t, r)
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
	// The binary's text, its constant data, its relocated data made
	// read-only, its data; a gap left PROT_NONE; anonymous memory; a file
	// of the same inode on another device, and another file.
	maps := []byte(`00400000-00c5d000 r-xp 00000000 00:27 1326880                            /usr/bin/candor
00c5d000-01a0f000 r--p 0085d000 00:27 1326880                            /usr/bin/candor
01a0f000-01a20000 r--p 0160f000 00:27 1326880                            /usr/bin/candor
01a20000-01a8c000 rw-p 01620000 00:27 1326880                            /usr/bin/candor
01a8c000-01a8d000 ---p 0168c000 00:27 1326880                            /usr/bin/candor
01a8d000-01ad0000 rw-p 00000000 00:00 0 
7f0000000000-7f0000001000 r--p 00000000 fe:01 1326880                    /other/fs/same-inode
7f0000002000-7f0000003000 r--p 00000000 00:27 1326881                    /usr/bin/other
`)
	want := [][2]uintptr{{0x400000, 0xc5d000}, {0xc5d000, 0x1a0f000}, {0x1a0f000, 0x1a20000}}
	for _, pc := range []uintptr{0x400000, 0x812345, 0xc5cfff} {
		got, err := readOnlyRanges(maps, pc)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("code at %#x: got %x, want %x", pc, got, want)
		}
	}
	// The device is matched as printed: a minor number past 255 (an
	// overlay's, say) has three digits.
	wide := []byte("00400000-00401000 r-xp 00000000 103:1a2 7 /x\n00401000-00402000 r--p 00001000 103:1a2 7 /x\n00402000-00403000 r--p 00000000 103:1a 7 /y\n")
	if got, err := readOnlyRanges(wide, 0x400800); err != nil || len(got) != 2 {
		t.Errorf("a three-digit device: %x, %v", got, err)
	}
	for _, c := range []struct {
		maps []byte
		pc   uintptr
	}{
		{[]byte("zz-00 r-xp 0 fe:01 1326880 /x\n"), 0x10}, // damaged
		{maps, 0x300000},  // in no mapping
		{maps, 0x1a8e000}, // in anonymous memory
	} {
		if got, err := readOnlyRanges(c.maps, c.pc); err == nil {
			t.Errorf("code at %#x: took %x", c.pc, got)
		}
	}
}
