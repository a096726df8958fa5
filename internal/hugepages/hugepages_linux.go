package hugepages

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"
)

// thpDisabled reports whether a GODEBUG value sets disablethp=1: its last
// disablethp setting, as Go reads it.
func thpDisabled(godebug string) bool {
	off := false
	for kv := range strings.SplitSeq(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "disablethp="); ok {
			off = v == "1"
		}
	}
	return off
}

// hugePage is the size of a transparent huge page on the platforms Go
// supports on Linux with 4 KiB base pages.
const hugePage = 2 << 20

// Back asks that the next n bytes the heap hands out be backed by huge
// pages where the kernel allows them, and reports whether the advice was
// taken. Call it once, early, before the burst of allocations it is for;
// it costs one collection of the small heap there is then. A kernel
// without transparent huge pages, or with them off, leaves the heap as it
// was: the advice is a hint, never a requirement. GODEBUG=disablethp=1,
// Go's own switch for its heap's huge pages, turns it off.
func Back(n int) bool {
	if n < 2*hugePage || thpDisabled(os.Getenv("GODEBUG")) {
		return false
	}
	b := make([]byte, n)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start + hugePage - 1) &^ (hugePage - 1)
	hi := (start + uintptr(n)) &^ (hugePage - 1)
	off := int(lo - start)
	err := syscall.Madvise(b[off:off+int(hi-lo)], syscall.MADV_HUGEPAGE)
	runtime.KeepAlive(b)
	// Free the range now, so the allocations that follow take it rather
	// than fresh (unadvised) mappings until the next collection. Leaving
	// it to the collection its allocation starts saved ~8 ms of CPU but
	// lost the range to a burst that outran that collection in one test
	// run of three.
	runtime.GC()
	return err == nil
}
