package image

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"unsafe"
)

// A dataset read in place hands out strings that point into its mapping
// (the string table's chunks), and they may live anywhere: a cached
// result, a page being written, a stale value served later. So a mapping
// a dataset was read from could never be unmapped, and a process that
// went on from newer states of its own kept every older file — its disk
// space and its pages copied on write — until it exited.
//
// A newer state written from that dataset holds the same chunks, byte for
// byte, each starting a page of the file (metrics: rawPiece). The pages
// of the older mapping that hold them are mapped onto the newer file
// instead (MapOnto: the addresses stay, the bytes are the same, only the
// file behind them changes), and once the older dataset is gone the rest
// of its mapping is replaced by inaccessible memory (Retire): nothing
// maps the older file then, and its disk space and pages go back.

// FileID identifies a file by device and inode: what a path named when a
// writer created it or a reader opened it.
type FileID struct{ Dev, Ino uint64 }

func fileID(fi os.FileInfo) FileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}
	}
	return FileID{Dev: uint64(st.Dev), Ino: st.Ino}
}

// SectionsStartPages reports whether every section starts a page of
// memory where its file is mapped: sections start at 4 KiB of the file,
// so not on a machine with larger pages (some arm64 kernels), where no
// range of a mapping can be mapped onto another file section by section.
func SectionsStartPages() bool { return align%os.Getpagesize() == 0 }

// ID is the identity of the file being written.
func (w *Writer) ID() FileID { return w.id }

// ID is the identity of the file mapped.
func (m *Mapped) ID() FileID { return m.id }

// Offset returns where b, a slice of the mapping, lies in the file; ok is
// false when b is not whole within the mapping.
func (m *Mapped) Offset(b []byte) (off int64, ok bool) {
	if len(b) == 0 || len(m.b) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < base || p-base+uintptr(len(b)) > uintptr(len(m.b)) {
		return 0, false
	}
	return int64(p - base), true
}

// Pages returns the page-aligned range of addresses b's pages cover, for
// b starting a page (ok false otherwise).
func Pages(b []byte) (r [2]uintptr, ok bool) {
	ps := uintptr(os.Getpagesize())
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if len(b) == 0 || p%ps != 0 {
		return r, false
	}
	return [2]uintptr{p, p + (uintptr(len(b))+ps-1)/ps*ps}, true
}

// MapOnto maps the pages at r (page-aligned addresses, as Pages returns)
// read-only onto m's file from off, in place of whatever they showed. The
// caller vouches that those bytes of the file are the ones the pages
// showed: a reader on another goroutine then reads the same bytes before
// and after, whichever it meets.
func (m *Mapped) MapOnto(r [2]uintptr, off int64) error {
	if m.fd < 0 {
		return errors.New("image: MapOnto on a mapping without its file")
	}
	ps := int64(os.Getpagesize())
	if r[0]%uintptr(ps) != 0 || r[1] <= r[0] || off%ps != 0 || off < 0 || off+int64(r[1]-r[0]) > int64(len(m.b))+ps {
		return fmt.Errorf("image: MapOnto of %#x–%#x at offset %d", r[0], r[1], off)
	}
	got, _, errno := syscall.Syscall6(syscall.SYS_MMAP, r[0], r[1]-r[0], syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_FIXED, uintptr(m.fd), uintptr(off))
	if errno != 0 {
		return fmt.Errorf("image: mmap(MAP_FIXED): %w", errno)
	}
	if got != r[0] {
		return fmt.Errorf("image: mmap(MAP_FIXED) gave %#x, not %#x", got, r[0])
	}
	return nil
}

// Moved records page ranges of m that MapOnto has mapped onto another
// file: Retire leaves them as they are.
func (m *Mapped) Moved(r ...[2]uintptr) {
	m.mu.Lock()
	m.moved = append(m.moved, r...)
	m.mu.Unlock()
}

// Retire is called once the dataset read from m is gone. If its strings
// were moved (Moved), nothing can point into the rest of the mapping: it
// is replaced by inaccessible, unbacked memory — the file's pages, those
// copied on write, and the file itself go (a stray pointer into it would
// fault rather than read another file's bytes, as it could if the range
// were unmapped and reused). Otherwise strings handed out may still point
// into it: its pages go back to the kernel (PageOut) and the mapping stays.
func (m *Mapped) Retire() {
	m.mu.Lock()
	moved := slices.Clone(m.moved)
	m.mu.Unlock()
	if len(moved) == 0 || len(m.b) == 0 {
		m.PageOut(nil)
		m.closeFD()
		return
	}
	slices.SortFunc(moved, func(a, b [2]uintptr) int { return cmp.Compare(a[0], b[0]) })
	ps := uintptr(os.Getpagesize())
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.b)))
	end := base + (uintptr(len(m.b))+ps-1)/ps*ps
	at := base
	for _, r := range append(moved, [2]uintptr{end, end}) {
		if r[0] > at {
			if errno := reserve(at, r[0]-at); errno != 0 {
				// The file stays mapped there: its pages can still go.
				syscall.Syscall(syscall.SYS_MADVISE, at, r[0]-at, madvPageout)
			}
		}
		at = max(at, r[1])
	}
	m.closeFD()
}

// reserve maps n bytes at addr over whatever is mapped there as
// inaccessible memory with nothing behind it: the addresses stay taken, so
// a stray pointer into memory let go faults rather than reads whatever is
// mapped there later (Retire, Arena.Close).
func reserve(addr, n uintptr) syscall.Errno {
	_, _, errno := syscall.Syscall6(syscall.SYS_MMAP, addr, n, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_FIXED|syscall.MAP_NORESERVE, ^uintptr(0), 0)
	return errno
}

func (m *Mapped) closeFD() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd >= 0 {
		syscall.Close(m.fd)
		m.fd = -1
	}
}
