package image

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// A dataset read in place from a private mapping (ReadPrivate) holds only
// the pages its reads touch. Two things touch far more: writing the
// dataset's state again, which reads every array, and nothing at all once
// the dataset is gone — the mapping stays, since strings handed out point
// into it. Resident and PageOut let the engine give such pages back.

// madvPageout is MADV_PAGEOUT (Linux 5.4), which the syscall package does
// not name: reclaim these pages now. A page that is still the file's
// leaves the resident set and faults back in from the file when read; one
// this process wrote (its own copy, on write) stays, having nowhere to go
// without swap. Unlike MADV_DONTNEED it never changes what the mapping
// reads, so it is safe while other goroutines read and write it.
const madvPageout = 21

// Resident reports which of the mapping's pages this process has in its
// page tables now (the present bit of /proc/self/pagemap), one bool a
// page. Not mincore: for a file mapping that reports the page cache,
// which holds pages this process let go of.
func (m *Mapped) Resident() ([]bool, error) {
	ents, err := m.pagemap()
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(ents))
	for i, e := range ents {
		out[i] = e&pmPresent != 0
	}
	return out, nil
}

// The bits of a /proc/self/pagemap entry read here: the page is in the
// page tables; it is a page of the file (or shared), not one this
// process wrote in a private mapping (its own anonymous copy).
const (
	pmPresent = 1 << 63
	pmFile    = 1 << 61
)

// pagemap reads the mapping's entries of /proc/self/pagemap, one a page.
func (m *Mapped) pagemap() ([]uint64, error) { return pagemapOf(m.b) }

// pagemapOf reads the entries of /proc/self/pagemap of the pages b spans
// from its first byte's, one a page.
func pagemapOf(b []byte) ([]uint64, error) {
	if len(b) == 0 {
		return nil, nil
	}
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps := os.Getpagesize()
	pages := (len(b) + ps - 1) / ps
	first := int64(uintptr(unsafe.Pointer(&b[0])) / uintptr(ps))
	out := make([]uint64, pages)
	buf := make([]byte, 8*4096)
	for done := 0; done < pages; {
		n := min(pages-done, len(buf)/8)
		k, err := f.ReadAt(buf[:8*n], 8*(first+int64(done)))
		if k < 8*n {
			return nil, fmt.Errorf("reading /proc/self/pagemap: %w", cmp.Or(err, io.ErrUnexpectedEOF))
		}
		for i := range n {
			out[done+i] = binary.LittleEndian.Uint64(buf[8*i:])
		}
		done += n
	}
	return out, nil
}

// Cached reports which of the mapping's pages the kernel holds in memory
// (mincore: for a page still the file's, whether the page cache has it,
// mapped by this process or not), one bool a page: what a read would
// fault back without the disk.
func (m *Mapped) Cached() ([]bool, error) {
	if len(m.b) == 0 {
		return nil, nil
	}
	ps := os.Getpagesize()
	vec := make([]byte, (len(m.b)+ps-1)/ps)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m.b[0])), uintptr(len(m.b)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return nil, fmt.Errorf("mincore: %w", errno)
	}
	out := make([]bool, len(vec))
	for i, v := range vec {
		out[i] = v&1 != 0
	}
	return out, nil
}

// Release takes out of this process's page tables the mapping's pages
// that are still the file's, but those keep marks (keep from Resident;
// nil keeps none), and leaves them in the page cache: a later read
// faults them back from memory. PageOut reclaims the page cache's copy
// too, so that read goes to the disk: on a VM whose disk answered in
// ~0.3 ms a read, the readers and the follower of a large import at
// scale 10 spent most of their time in such faults (docs/performance.md,
// "The state's pages left in the page cache"). A page this process wrote
// stays: MADV_DONTNEED would throw its copy away, so Release advises
// only pages the page tables show as the file's — and a page written
// between that look and the advice would lose its write: the caller
// keeps every writer of the mapping out until Release returns.
func (m *Mapped) Release(keep []bool) error {
	ents, err := m.pagemap()
	if err != nil {
		// Without the page tables (a kernel or sandbox that hides
		// /proc/self/pagemap) the pages still go back, as PageOut
		// gives them: from the page cache too, but never a write lost.
		return m.PageOut(keep)
	}
	ps := os.Getpagesize()
	drop := func(i int) bool {
		return ents[i]&(pmPresent|pmFile) == pmPresent|pmFile && (i >= len(keep) || !keep[i])
	}
	for i := 0; i < len(ents); {
		if !drop(i) {
			i++
			continue
		}
		j := i + 1
		for j < len(ents) && drop(j) {
			j++
		}
		if err := syscall.Madvise(m.b[i*ps:min(j*ps, len(m.b))], syscall.MADV_DONTNEED); err != nil {
			return fmt.Errorf("madvise(MADV_DONTNEED): %w", err)
		}
		i = j
	}
	return nil
}

// PageOut asks the kernel to take back the mapping's pages but those keep
// marks (keep from Resident; nil keeps none). The kernel reclaims a folio
// of the page cache at a time (up to a few hundred KiB of the file), so a
// kept page beside others may go too and fault back in when read: keep
// says what not to advise, not what stays. A kernel without MADV_PAGEOUT
// refuses it, and the pages stay.
func (m *Mapped) PageOut(keep []bool) error {
	if len(m.b) == 0 {
		return nil
	}
	ps := os.Getpagesize()
	pages := (len(m.b) + ps - 1) / ps
	for i := 0; i < pages; {
		if i < len(keep) && keep[i] {
			i++
			continue
		}
		j := i + 1
		for j < pages && (j >= len(keep) || !keep[j]) {
			j++
		}
		if err := syscall.Madvise(m.b[i*ps:min(j*ps, len(m.b))], madvPageout); err != nil {
			return fmt.Errorf("madvise(MADV_PAGEOUT): %w", err)
		}
		i = j
	}
	return nil
}

// Discard gives back the pages wholly within b, a slice of a private
// mapping whose bytes no reader needs any more, this process's copies of
// them included: afterwards they read as the file's bytes again, faulted
// back if touched. The caller vouches that nothing writes b meanwhile and
// nothing needs what was written there. The pages b only partly covers
// stay, as do pages of a shared mapping (Release gives those back).
func (m *Mapped) Discard(b []byte) error {
	off, ok := m.Offset(b)
	if !ok {
		return errors.New("image: Discard of bytes outside the mapping")
	}
	if !m.private {
		return nil
	}
	ps := int64(os.Getpagesize())
	lo, hi := (off+ps-1)/ps*ps, (off+int64(len(b)))/ps*ps
	if hi <= lo {
		return nil
	}
	if err := syscall.Madvise(m.b[lo:hi], syscall.MADV_DONTNEED); err != nil {
		return fmt.Errorf("madvise(MADV_DONTNEED): %w", err)
	}
	return nil
}
