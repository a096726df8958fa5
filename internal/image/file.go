// Package image reads and writes the dataset image: a file that lets a
// starting process skip most of the store (docs/design.md, "The image").
// The file says which store and sequence it reflects and which version of
// Candor wrote it; every byte of it is covered by a CRC-32C. This file is
// the container; records.go is the first content kept in it.
//
// Layout (all integers little-endian):
//
//	0       magic "CANDORIM", format version u32, header length u32
//	16      header: fields as u32-length-prefixed strings (Version, Schema,
//	        Store, Settings, LastKind, LastSource, LastID, LastHash), Seq
//	        i64, section count u32, then per section kind u32, offset u64,
//	        length u64, CRC-32C u32
//	…       each section, starting at a multiple of 4 KiB
//	end−24  trailer: header end u64, CRC-32C of bytes [0, header end) u32,
//	        zero u32, end magic "CANDOREN"
//
// A reader checks the trailer, the header's CRC and every section's CRC
// before it hands out anything, so a truncated, bit-flipped or half
// written file is refused whole, never read in part.
package image

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
)

// Format is the version of the container and its content; a file of
// another format is refused.
const Format = 1

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
}

// Write writes the image to path atomically: to a temporary file beside
// it, synced, then renamed over path (and the directory synced), so a
// reader finds the old image or the new one, never part of one.
func Write(path string, h Header, sections []Section) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	head := encodeHeader(h, sections)
	if _, err := f.Write(head); err != nil {
		return fmt.Errorf("image: writing %s: %w", f.Name(), err)
	}
	off := int64(len(head))
	for _, s := range sections {
		if pad := padTo(off); pad > 0 {
			if _, err := f.Write(make([]byte, pad)); err != nil {
				return fmt.Errorf("image: writing %s: %w", f.Name(), err)
			}
			off += pad
		}
		if _, err := f.Write(s.Data); err != nil {
			return fmt.Errorf("image: writing %s: %w", f.Name(), err)
		}
		off += int64(len(s.Data))
	}
	var tr [trailerSz]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(len(head)))
	binary.LittleEndian.PutUint32(tr[8:], crc32.Checksum(head, castagnoli))
	copy(tr[16:], endMagic)
	if _, err := f.Write(tr[:]); err != nil {
		return fmt.Errorf("image: writing %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("image: syncing %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	// The rename is durable once the directory is.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func padTo(off int64) int64 { return (align - off%align) % align }

// encodeHeader lays out the magic, the header and the section table,
// with each section's offset as Write places them.
func encodeHeader(h Header, sections []Section) []byte {
	b := []byte(magic)
	b = binary.LittleEndian.AppendUint32(b, Format)
	b = binary.LittleEndian.AppendUint32(b, 0) // header length, set below
	for _, s := range []string{h.Version, h.Schema, h.Store, h.Settings, h.LastKind, h.LastSource, h.LastID, h.LastHash} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(h.Seq))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(sections)))
	const entry = 4 + 8 + 8 + 4
	off := int64(len(b) + entry*len(sections))
	for _, s := range sections {
		off += padTo(off)
		b = binary.LittleEndian.AppendUint32(b, s.Kind)
		b = binary.LittleEndian.AppendUint64(b, uint64(off))
		b = binary.LittleEndian.AppendUint64(b, uint64(len(s.Data)))
		b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(s.Data, castagnoli))
		off += int64(len(s.Data))
	}
	binary.LittleEndian.PutUint32(b[12:], uint32(len(b)-16))
	return b
}

// ErrMissing is returned by Read when there is no image at the path.
var ErrMissing = errors.New("no image")

// Mapped is an image mapped read-only and verified.
type Mapped struct {
	Header   Header
	Sections []Section
	b        []byte
}

// Read maps the image at path (read-only) and verifies it: its magic,
// format, trailer and every checksum. The sections' data are slices of
// the mapping: valid until Close, so the caller copies out what it keeps.
// A file that fails any check is an error naming what failed.
func Read(path string) (*Mapped, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrMissing
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < 16+trailerSz || fi.Size() > math.MaxInt {
		return nil, fmt.Errorf("not an image (%d bytes)", fi.Size())
	}
	// Mapped rather than read into the heap: the pages are the kernel's
	// page cache, counted in the process's memory only while touched and
	// mapped (Done lets go of a section's).
	b, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping the image: %w", err)
	}
	m := &Mapped{b: b}
	if m.Header, m.Sections, err = Parse(b); err != nil {
		m.Close()
		return nil, err
	}
	// The checksums touched every page: let go of them until each
	// section is read.
	syscall.Madvise(b, syscall.MADV_DONTNEED)
	return m, nil
}

// Done lets go of section i's pages once the caller has read it; reading
// it again faults them back in from the page cache.
func (m *Mapped) Done(i int) {
	s := m.Sections[i].Data
	if len(s) > 0 {
		syscall.Madvise(s, syscall.MADV_DONTNEED)
	}
}

// Close unmaps the image.
func (m *Mapped) Close() { syscall.Munmap(m.b) }

// Parse verifies and splits an image held in memory.
func Parse(b []byte) (Header, []Section, error) {
	var h Header
	if len(b) < 16+trailerSz || string(b[:8]) != magic {
		return h, nil, errors.New("not an image (no CANDORIM magic)")
	}
	if f := binary.LittleEndian.Uint32(b[8:]); f != Format {
		return h, nil, fmt.Errorf("image format %d, this version reads %d", f, Format)
	}
	tr := b[len(b)-trailerSz:]
	if string(tr[16:]) != endMagic || binary.LittleEndian.Uint32(tr[12:]) != 0 {
		return h, nil, errors.New("truncated (no trailer)")
	}
	end := binary.LittleEndian.Uint64(tr[0:])
	if end < 16 || end > uint64(len(b)-trailerSz) || uint64(binary.LittleEndian.Uint32(b[12:]))+16 != end {
		return h, nil, errors.New("truncated or damaged (header length)")
	}
	head := b[:end]
	if crc32.Checksum(head, castagnoli) != binary.LittleEndian.Uint32(tr[8:]) {
		return h, nil, errors.New("header checksum mismatch")
	}
	r := reader{b: head, off: 16}
	for _, s := range []*string{&h.Version, &h.Schema, &h.Store, &h.Settings, &h.LastKind, &h.LastSource, &h.LastID, &h.LastHash} {
		*s = r.str()
	}
	h.Seq = int64(r.u64())
	n := r.u32()
	if r.bad || uint64(n)*24 > uint64(len(head)) {
		return h, nil, errors.New("damaged header")
	}
	body := uint64(len(b) - trailerSz)
	sections := make([]Section, 0, n)
	for i := range n {
		kind, off, length, sum := r.u32(), r.u64(), r.u64(), r.u32()
		if r.bad {
			return h, nil, errors.New("damaged section table")
		}
		if off < end || off > body || length > body-off {
			return h, nil, fmt.Errorf("section %d lies outside the file (truncated?)", i)
		}
		data := b[off : off+length]
		if crc32.Checksum(data, castagnoli) != sum {
			return h, nil, fmt.Errorf("section %d checksum mismatch", i)
		}
		sections = append(sections, Section{Kind: kind, Data: data})
	}
	if r.off != len(head) {
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

// Build names the Candor build for an image's header: the module version
// and, when the binary carries them, the VCS revision and whether the tree
// was modified.
func Build() string {
	buildOnce.Do(func() {
		build = "(unknown)"
		info, ok := debug.ReadBuildInfo()
		if !ok {
			return
		}
		build = info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				build += " " + s.Key + "=" + s.Value
			}
		}
	})
	return build
}

var (
	buildOnce sync.Once
	build     string
)
