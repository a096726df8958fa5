// Package image reads and writes the dataset image: a file that lets a
// starting process skip most of the store (docs/design.md, "The image").
// The file says which store and sequence it reflects and which version of
// Candor wrote it; every byte of it is covered by a CRC-32C. This file is
// the container; records.go is the first content kept in it.
//
// Layout (all integers little-endian):
//
//	0       magic "CANDORIM", format version u32, zero u32
//	4096    each section, starting at a multiple of 4 KiB
//	H       header: fields as u32-length-prefixed strings (Version, Schema,
//	        Store, Settings, LastKind, LastSource, LastID, LastHash), Seq
//	        i64, section count u32, then per section kind u32, offset u64,
//	        length u64, CRC-32C u32
//	end−24  trailer: H u64, CRC-32C of the first 16 bytes and the header
//	        u32, header length u32, end magic "CANDOREN"
//
// The header follows the sections so that a writer streams sections to
// the file as it makes them and holds none (Writer). A reader checks the
// trailer, the header's CRC and every section's CRC before it hands out
// anything, so a truncated, bit-flipped or half written file is refused
// whole, never read in part.
package image

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Format is the version of the container and its content; a file of
// another format is refused.
const Format = 2

const (
	magic     = "CANDORIM"
	endMagic  = "CANDOREN"
	align     = 4096
	trailerSz = 24
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header says what an image reflects. A reader uses the image only when
// every field matches what it expects (Check).
type Header struct {
	// Version is the Candor build that wrote the file; Schema a hash of
	// the content's encoding (the record types it encodes, field by
	// field), so a development build whose records changed is refused too.
	Version string
	Schema  string
	// Store identifies the store the rows came from (engine.StoreIdentity).
	Store string
	// Settings is a hash of the settings the content depends on. Records
	// as stored depend on none; content holding derived fields (a
	// dataset's own indexes) would name theirs.
	Settings string
	// Seq is the store sequence the image reflects: every row with a
	// sequence up to it, as the store held them when the image was
	// written.
	Seq int64
	// The row of sequence Seq, which a reader finds again in the store
	// (at Seq with the same hash, or replaced by a later row): a store
	// restored from an older backup and written to since has other rows
	// under the same sequences, and this is how that is noticed.
	LastKind, LastSource, LastID, LastHash string
}

// Section is one checksummed part of the content.
type Section struct {
	Kind uint32
	Data []byte
	// sum is the checksum the file gives for Data, index the section's
	// place in it (0 for a section being written), off where Data starts
	// in the file.
	sum   uint32
	index int
	off   int64
}

// Verify checks a section read from a file against its checksum.
func (s Section) Verify() error {
	if crc32.Checksum(s.Data, castagnoli) != s.sum {
		return fmt.Errorf("section %d checksum mismatch", s.index)
	}
	return nil
}

// Writer streams an image to a temporary file beside its path; Commit
// renames it over the path.
type Writer struct {
	path  string
	f     *os.File
	off   int64
	table []entry
	id    FileID
}

type entry struct {
	kind     uint32
	off, len uint64
	crc      uint32
}

// Create starts an image to be written to path.
func Create(path string) (*Writer, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	removeAbandoned(path)
	f, err := createLocked(dir, filepath.Base(path)+".tmp")
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	w := &Writer{path: path, f: f}
	if fi, err := f.Stat(); err == nil {
		w.id = fileID(fi)
	}
	if err := w.write(prefix()); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// createLocked creates a temporary file named prefix and digits in dir
// and holds an exclusive flock on it while it is open, which tells
// removeAbandoned a writer is still at it. A file another process's
// removeAbandoned took away between its creation and the lock is left and
// another made.
func createLocked(dir, prefix string) (*os.File, error) {
	for {
		f, err := os.CreateTemp(dir, prefix+"*")
		if err != nil {
			return nil, err
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			return f, nil // a file system without locks: nothing is removed there either
		}
		if fi, err := os.Stat(f.Name()); err == nil {
			if own, err := f.Stat(); err == nil && os.SameFile(fi, own) {
				return f, nil
			}
		}
		f.Close()
	}
}

// removeAbandoned removes the temporary files of path's writers that
// ended without committing or aborting (a process killed or out of
// memory mid-write): nothing else ever would, and each is as large as
// the image or state it was becoming, so a server killed while writing
// them again and again filled its disk. A file whose writer still holds
// its lock (another process writing now) is left.
func removeAbandoned(path string) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+".tmp"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, ent := range ents {
		rest, ok := strings.CutPrefix(ent.Name(), prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !ent.Type().IsRegular() {
			continue
		}
		name := filepath.Join(dir, ent.Name())
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.Remove(name)
		}
		f.Close()
	}
}

func prefix() []byte {
	b := []byte(magic)
	b = binary.LittleEndian.AppendUint32(b, Format)
	return binary.LittleEndian.AppendUint32(b, 0)
}

func (w *Writer) write(b []byte) error {
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("image: writing %s: %w", w.f.Name(), err)
	}
	w.off += int64(len(b))
	return nil
}

// Add writes a section (at the next multiple of 4 KiB).
func (w *Writer) Add(s Section) error {
	if pad := padTo(w.off); pad > 0 {
		if err := w.write(make([]byte, pad)); err != nil {
			return err
		}
	}
	w.table = append(w.table, entry{kind: s.Kind, off: uint64(w.off), len: uint64(len(s.Data)), crc: crc32.Checksum(s.Data, castagnoli)})
	return w.write(s.Data)
}

// Commit writes the header and trailer, syncs the file and renames it
// over the path (then syncs the directory), so a reader finds the old
// image or the new one, never part of one. On error the temporary file is
// removed.
func (w *Writer) Commit(h Header) (err error) {
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	head := encodeHeader(h, w.table)
	at := w.off
	if err := w.write(head); err != nil {
		return err
	}
	var tr [trailerSz]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(at))
	binary.LittleEndian.PutUint32(tr[8:], crc32.Update(crc32.Checksum(prefix(), castagnoli), castagnoli, head))
	binary.LittleEndian.PutUint32(tr[12:], uint32(len(head)))
	copy(tr[16:], endMagic)
	if err := w.write(tr[:]); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("image: syncing %s: %w", w.f.Name(), err)
	}
	// Renamed before it is closed, which lets its lock go: closed first,
	// another writer's removeAbandoned could take it for abandoned.
	if err := os.Rename(w.f.Name(), w.path); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	// The rename is durable once the directory is.
	if d, err := os.Open(filepath.Dir(w.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// CopyTo adds the sections written to w so far to dst, in order, read
// back from w's file one at a time (each checked against its checksum),
// and gives w up. A writer that must put other sections first (the image
// of the rows: those kept from the previous image) streams the rest to a
// spill writer and copies them after, rather than hold them in memory.
func (w *Writer) CopyTo(dst *Writer) error {
	defer w.Abort()
	var buf []byte
	for _, e := range w.table {
		if uint64(cap(buf)) < e.len {
			buf = make([]byte, e.len)
		}
		b := buf[:e.len]
		if _, err := w.f.ReadAt(b, int64(e.off)); err != nil {
			return fmt.Errorf("image: reading back %s: %w", w.f.Name(), err)
		}
		if crc32.Checksum(b, castagnoli) != e.crc {
			return fmt.Errorf("image: a section read back from %s fails its checksum", w.f.Name())
		}
		if err := dst.Add(Section{Kind: e.kind, Data: b}); err != nil {
			return err
		}
	}
	return nil
}

// Abort gives the image up: the temporary file is removed.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// Write writes an image whose sections are all in hand.
func Write(path string, h Header, sections []Section) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	for _, s := range sections {
		if err := w.Add(s); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Commit(h)
}

func padTo(off int64) int64 { return (align - off%align) % align }

// encodeHeader lays out the header and the section table.
func encodeHeader(h Header, table []entry) []byte {
	var b []byte
	for _, s := range []string{h.Version, h.Schema, h.Store, h.Settings, h.LastKind, h.LastSource, h.LastID, h.LastHash} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(h.Seq))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(table)))
	for _, e := range table {
		b = binary.LittleEndian.AppendUint32(b, e.kind)
		b = binary.LittleEndian.AppendUint64(b, e.off)
		b = binary.LittleEndian.AppendUint64(b, e.len)
		b = binary.LittleEndian.AppendUint32(b, e.crc)
	}
	return b
}

// ErrMissing is returned by Read when there is no image at the path.
var ErrMissing = errors.New("no image")

// Mapped is an image mapped read-only and verified.
type Mapped struct {
	Header   Header
	Sections []Section
	b        []byte
	// f is the file mapped, kept open by ReadDeferred and ReadPrivate for
	// VerifyRead until Verified or Close.
	f *os.File
	// id is the file's identity, and fd a descriptor of it kept by
	// ReadPrivate (-1: none) until Close or Retire: MapOnto maps pages of
	// the file elsewhere after the path names another (strings.go).
	id FileID
	fd int
	// private says the mapping is private and writable (ReadPrivate): the
	// process's writes are its own copies of the pages (Discard).
	private bool
	// moved holds the page ranges of the mapping that now show another
	// file (MapOnto from a newer mapping), which Retire keeps.
	mu    sync.Mutex
	moved [][2]uintptr
}

// Read maps the image at path (read-only) and verifies it: its magic,
// format, trailer and every checksum. The sections' data are slices of
// the mapping: valid until Close, so the caller copies out what it keeps.
// A file that fails any check is an error naming what failed.
func Read(path string) (*Mapped, error) { return read(path, true, false) }

// ReadDeferred is Read leaving each section's checksum to Section.Verify,
// for a reader that takes the sections in order and keeps nothing of them
// until the last has passed: the file is then read once, not twice.
func ReadDeferred(path string) (*Mapped, error) { return read(path, false, false) }

// ReadPrivate is ReadDeferred mapping the file copy-on-write: the caller
// may write to the sections, which changes its pages and never the file,
// and may keep using them after the file is replaced (the rename leaves
// the mapped file in place until the mapping goes).
func ReadPrivate(path string) (*Mapped, error) { return read(path, false, true) }

func read(path string, verify, private bool) (_ *Mapped, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrMissing
	}
	if err != nil {
		return nil, err
	}
	// Kept open for VerifyRead while the caller checks the sections.
	m := &Mapped{f: f, fd: -1}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < 16+trailerSz || fi.Size() > math.MaxInt {
		return nil, fmt.Errorf("not an image (%d bytes)", fi.Size())
	}
	m.id = fileID(fi)
	// Mapped rather than read into the heap: the pages are the kernel's
	// page cache, counted in the process's memory only while touched and
	// mapped (Done lets go of a section's).
	prot, flags := syscall.PROT_READ, syscall.MAP_SHARED
	if private {
		prot, flags = syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE
	}
	m.private = private
	if m.b, err = syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), prot, flags); err != nil {
		return nil, fmt.Errorf("mapping the image: %w", err)
	}
	if private {
		if m.fd, err = syscall.Dup(int(f.Fd())); err != nil {
			return nil, fmt.Errorf("keeping the image open: %w", err)
		}
		syscall.CloseOnExec(m.fd)
	}
	if m.Header, m.Sections, err = parse(m.b, false); err != nil {
		return nil, err
	}
	if verify {
		buf := make([]byte, verifyBuf)
		for i := range m.Sections {
			if err := m.VerifyRead(i, buf); err != nil {
				return nil, err
			}
		}
		m.Verified()
	}
	return m, nil
}

// verifyBuf is how much of a section VerifyRead reads at a time.
const verifyBuf = 1 << 20

// VerifyRead checks section i against its checksum reading the file
// (pread, through buf, any length) rather than the mapping: on this
// project's virtual machines faulting a mapping's pages in costs twice
// reading them (scale 10's 850 MB state: ~160 ms read against 210–330 ms
// mapped), and it leaves the mapping's pages untouched, so checking a
// section holds none of them. The mapping shows the file's bytes (Candor
// replaces an image only by renaming a new file over it), so what is
// checked is what is read. Safe for one goroutine while others read the
// sections.
func (m *Mapped) VerifyRead(i int, buf []byte) error {
	if m.f == nil {
		return errors.New("image: VerifyRead after Verified")
	}
	return verifyRead(m.f, m.Sections[i], buf)
}

func verifyRead(f *os.File, s Section, buf []byte) error {
	if len(buf) == 0 {
		buf = make([]byte, verifyBuf)
	}
	var sum uint32
	for done := 0; done < len(s.Data); {
		n := min(len(buf), len(s.Data)-done)
		k, err := f.ReadAt(buf[:n], s.off+int64(done))
		if k < n {
			return fmt.Errorf("reading section %d: %w", s.index, cmp.Or(err, io.ErrUnexpectedEOF))
		}
		sum = crc32.Update(sum, castagnoli, buf[:n])
		done += n
	}
	if sum != s.sum {
		return fmt.Errorf("section %d checksum mismatch", s.index)
	}
	return nil
}

// Verified closes the file VerifyRead reads, once every section it was
// asked to check has been; the mapping stays.
func (m *Mapped) Verified() {
	if m.f != nil {
		m.f.Close()
		m.f = nil
	}
}

// Done lets go of section i's pages once the caller has read it; reading
// it again faults them back in from the page cache. In a private mapping
// (ReadPrivate) it also drops what was written to them: call it only
// before writing.
func (m *Mapped) Done(i int) {
	s := m.Sections[i].Data
	if len(s) > 0 {
		syscall.Madvise(s, syscall.MADV_DONTNEED)
	}
}

// Close unmaps the image — but for ranges moved onto another file
// (Moved), which strings may still point into: then the rest goes as
// Retire lets it go.
func (m *Mapped) Close() {
	m.Verified()
	m.mu.Lock()
	moved := len(m.moved) > 0
	m.mu.Unlock()
	if moved {
		m.Retire()
		return
	}
	m.closeFD()
	if m.b != nil {
		syscall.Munmap(m.b)
		m.b = nil
	}
}

// Parse verifies and splits an image held in memory.
func Parse(b []byte) (Header, []Section, error) { return parse(b, true) }

func parse(b []byte, verify bool) (Header, []Section, error) {
	var h Header
	if len(b) < 16+trailerSz || string(b[:8]) != magic {
		return h, nil, errors.New("not an image (no CANDORIM magic)")
	}
	if f := binary.LittleEndian.Uint32(b[8:]); f != Format {
		return h, nil, fmt.Errorf("image format %d, this version reads %d", f, Format)
	}
	tr := b[len(b)-trailerSz:]
	if string(tr[16:]) != endMagic {
		return h, nil, errors.New("truncated (no trailer)")
	}
	at, n := binary.LittleEndian.Uint64(tr[0:]), uint64(binary.LittleEndian.Uint32(tr[12:]))
	body := uint64(len(b) - trailerSz)
	if at < 16 || at > body || at+n != body {
		return h, nil, errors.New("truncated or damaged (header position)")
	}
	head := b[at:body]
	if crc32.Update(crc32.Checksum(b[:16], castagnoli), castagnoli, head) != binary.LittleEndian.Uint32(tr[8:]) {
		return h, nil, errors.New("header checksum mismatch")
	}
	r := reader{b: head}
	for _, s := range []*string{&h.Version, &h.Schema, &h.Store, &h.Settings, &h.LastKind, &h.LastSource, &h.LastID, &h.LastHash} {
		*s = r.str()
	}
	h.Seq = int64(r.u64())
	count := r.u32()
	if r.bad || uint64(count)*24 > uint64(len(head)) {
		return h, nil, errors.New("damaged header")
	}
	sections := make([]Section, 0, count)
	for i := range count {
		kind, off, length, sum := r.u32(), r.u64(), r.u64(), r.u32()
		if r.bad {
			return h, nil, errors.New("damaged section table")
		}
		if off < 16 || off > at || length > at-off {
			return h, nil, fmt.Errorf("section %d lies outside the file (truncated?)", i)
		}
		sec := Section{Kind: kind, Data: b[off : off+length], sum: sum, index: int(i), off: int64(off)}
		if verify {
			if err := sec.Verify(); err != nil {
				return h, nil, err
			}
		}
		sections = append(sections, sec)
	}
	if r.off != len(head) || binary.LittleEndian.Uint32(b[12:]) != 0 {
		return h, nil, errors.New("damaged header (trailing bytes)")
	}
	return h, sections, nil
}

// reader reads the header's fields; bad is set once it runs off the end.
type reader struct {
	b   []byte
	off int
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || r.off+n > len(r.b) {
		r.bad = true
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (r *reader) str() string { return string(r.take(int(r.u32()))) }
