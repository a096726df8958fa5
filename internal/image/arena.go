package image

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Arena hands out zeroed, pointer-free memory from a file of its own,
// mapped shared: what a large catch-up appends to the dataset's slabs
// (docs/design.md, "A large catch-up's rows in a file"). Its pages can
// leave the process's resident set (Release, Done) without losing a byte:
// a shared file mapping's pages are the page cache's, so a later read
// faults them back from memory, and the kernel may write them to the
// file and reclaim them under pressure, where heap pages have nowhere to
// go without swap. The file has no name (O_TMPFILE; where the file system
// cannot, it is unlinked as soon as it is made): nothing is left on the
// disk when the process ends, however it ends.
//
// Only memory that holds no Go pointer may come from an arena: the
// collector does not scan it, and the race detector does not see it.
// Nothing handed out may be used after Close.
type Arena struct {
	mu   sync.Mutex
	f    *os.File
	segs [][]byte // the mappings, each arenaSeg bytes or one large chunk
	used int      // bytes handed out of the last segment
	size int64    // the file's length
	out  int64    // bytes handed out
}

// arenaSeg is the size of an arena's mappings: a few dozen slab chunks
// each, and few mappings for a large catch-up (a million rows at scale 1
// fill ~4 of them).
const arenaSeg = 16 << 20

// errNotHandedOut is Done's refusal of memory the arena did not hand out:
// the state's writing offers it every chunk, the heap's too.
var errNotHandedOut = errors.New("arena: Done of memory it did not hand out")

// ArenaFileSystem says whether an arena may keep its file on the file
// system of statfs type magic: only where a write into space reserved
// before (fallocate) goes where it was reserved — ext2/3/4 and XFS. In a
// memory file system (tmpfs, ramfs) each segment takes memory at once and
// giving pages back frees nothing; on a copy-on-write one (btrfs, ZFS,
// bcachefs) rewriting a page written back needs new space, and on a full
// disk a write through the mapping would be a SIGBUS; elsewhere (a
// network or overlay file system) what lies below is unknown.
func ArenaFileSystem(magic int64) bool {
	return magic == unix.EXT4_SUPER_MAGIC || magic == unix.XFS_SUPER_MAGIC
}

// NewArena makes an arena whose file lies in dir, a data directory on a
// file system ArenaFileSystem accepts (anyFS: any — tests, whose
// temporary directory may be in memory).
func NewArena(dir string, anyFS bool) (*Arena, error) {
	if !anyFS {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			return nil, &os.PathError{Op: "statfs", Path: dir, Err: err}
		}
		if !ArenaFileSystem(int64(st.Type)) {
			return nil, fmt.Errorf("%s: its file system (type %#x) is not one whose reserved space a write through a mapping keeps (ext2/3/4, XFS)", dir, st.Type)
		}
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return &Arena{f: os.NewFile(uintptr(fd), dir+"/(arena)")}, nil
	}
	f, err := os.CreateTemp(dir, ".candor-arena-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return &Arena{f: f}, nil
}

// Chunk returns at least n zeroed bytes starting a page (n rounded up to
// whole pages), or nil when the arena cannot grow: the disk refused to
// reserve the space (the caller allocates on the heap instead). Space is
// reserved before it is mapped, so a write into it never meets a full
// disk — which, through a mapping, would be a SIGBUS rather than an error.
func (a *Arena) Chunk(n int) []byte {
	ps := os.Getpagesize()
	if n <= 0 {
		return nil
	}
	n = (n + ps - 1) / ps * ps
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	if k := len(a.segs); k > 0 && len(a.segs[k-1])-a.used >= n {
		b := a.segs[k-1][a.used : a.used+n : a.used+n]
		a.used += n
		a.out += int64(n)
		return b
	}
	size := max(arenaSeg, n)
	if err := syscall.Fallocate(int(a.f.Fd()), 0, a.size, int64(size)); err != nil {
		return nil
	}
	b, err := syscall.Mmap(int(a.f.Fd()), a.size, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	a.size += int64(size)
	a.segs = append(a.segs, b)
	a.used = n
	a.out += int64(n)
	return b[:n:n]
}

// Release takes every page of the arena out of the process's page tables;
// they stay in the page cache, and a read faults them back. Safe beside
// readers and writers of the memory: on a shared mapping the page cache
// holds the only copy, which MADV_DONTNEED does not touch.
func (a *Arena) Release() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.segs {
		if err := syscall.Madvise(b, syscall.MADV_DONTNEED); err != nil {
			return fmt.Errorf("arena: madvise(MADV_DONTNEED): %w", err)
		}
	}
	return nil
}

// Done gives back the pages wholly within b, as Release does for all of
// them. Bytes the arena did not hand out are refused: on other memory
// (the heap's, a private mapping's) MADV_DONTNEED would throw writes away.
func (a *Arena) Done(b []byte) error {
	ps := uintptr(os.Getpagesize())
	if len(b) == 0 {
		return nil
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(len(b))
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.segs {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
		if lo < base || hi > base+uintptr(len(s)) {
			continue
		}
		from, to := (lo+ps-1)/ps*ps, hi/ps*ps
		if to <= from {
			return nil
		}
		if err := syscall.Madvise(s[from-base:to-base], syscall.MADV_DONTNEED); err != nil {
			return fmt.Errorf("arena: madvise(MADV_DONTNEED): %w", err)
		}
		return nil
	}
	return errNotHandedOut
}

// Resident counts the arena's pages in this process's page tables now
// (the present bit of /proc/self/pagemap) and its pages in all.
func (a *Arena) Resident() (resident, pages int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.segs {
		ents, err := pagemapOf(b)
		if err != nil {
			return 0, 0, err
		}
		pages += len(ents)
		for _, e := range ents {
			if e&pmPresent != 0 {
				resident++
			}
		}
	}
	return resident, pages, nil
}

// HandedOut is how many bytes Chunk has handed out.
func (a *Arena) HandedOut() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out
}

// Bytes is the length of the arena's file: what it has mapped so far.
func (a *Arena) Bytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.size
}

// Close lets the arena's file go, and its space with it. No memory it
// handed out may be read afterwards: its addresses are left reserved and
// inaccessible, as a retired state's are (Mapped.Retire), so a stray row
// pointer faults rather than reads whatever is mapped there later (where
// the kernel refuses that, the segment is unmapped and its addresses may
// be used again).
func (a *Arena) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var first error
	for _, b := range a.segs {
		if errno := reserve(uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b))); errno != 0 {
			if err := syscall.Munmap(b); err != nil && first == nil {
				first = err
			}
		}
	}
	a.segs = nil
	if a.f != nil {
		if err := a.f.Close(); err != nil && first == nil {
			first = err
		}
		a.f = nil
	}
	return first
}
