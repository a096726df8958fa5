package metrics

import (
	"encoding/binary"
	"maps"
	"math/bits"
	"slices"
	"sync/atomic"
	"unsafe"
)

// strtab interns every id and name the dataset keeps: each distinct string
// gets a small code and its bytes are kept once, in large chunks. A row then
// holds 4-byte codes instead of 16-byte string headers pointing at separate
// allocations, and references (a deployment's change list, rollback_of, …)
// resolve by code. Nothing in it holds a pointer but the chunk list, so the
// garbage collector has nearly nothing to scan however many strings it
// holds, and its arrays can be written to a file and read back as they are.
//
// Strings handed out (str) point into the chunks, which are never moved or
// overwritten; the table only grows (a string no record uses any more keeps
// its code, which costs its bytes and ~9 bytes of index).
//
// Code 0 is the empty string.
type strtab struct {
	chunks [][]byte
	// loc locates each code's string: chunk (bits 31–20) and offset in
	// the chunk (19–0) of its length (a uvarint) followed by its bytes.
	// 4 bytes a code: a million codes cost 4 MB here.
	loc []uint32
	// slots is an open-addressing hash table, its size 2^bits kept at
	// most 7/8 full (overFull). A slot holds code+1 in its low bits (0: empty) and,
	// in the bits the code does not need, bits of its string's hash: a
	// probe past another string's slot then seldom reads that string,
	// which is a cache miss in the chunks (most probes of a load are for
	// strings not interned yet, which pass every slot of their run).
	slots []uint32
	bits  uint
	// readonly says slots lie in a dataset state read in place: the slots
	// written since go to over instead, by position. Each slot written
	// there was a page copied on write — a random one per new string, and
	// at scale 10 (128 MB of slots) ~20 µs each: a start applying 5,000
	// newer rows spent ~0.1 s on it and held 20 MB more. A state written
	// with an overlay keeps it (its readers rebuild the map); past
	// overMax entries the table writes its slots (own).
	readonly bool
	over     map[uint32]uint32
	// mem is set while slots lie in a dataset state read in place, written
	// (own) or not: once grow has left them, their pages go back
	// (stateMem.drop). Slots written in place are pages copied on write,
	// which nothing reads after grow: at scale 1 a 1M-record import into
	// a running server outgrew the state's 2^21 slots after writing them
	// all, and their 8 MiB stayed with the process beside the 16 MiB that
	// replaced them (docs/performance.md).
	mem *stateMem
	// stamp tells this table from every other of the process (refAt):
	// codes mean the same only within one table.
	stamp uint32
}

// strtabs stamps the tables made.
var strtabs atomic.Uint32

const (
	strChunkMax = 1 << strOffBits // a chunk's size once the table is large
	strOffBits  = 20
	// strChunks bounds the chunks, and so the table, to ~4 GiB of
	// strings: ~40 times what scale 10 holds.
	strChunks = 1 << (32 - strOffBits)
)

func newStrtab() *strtab {
	t := &strtab{loc: []uint32{0}, slots: make([]uint32, 16), bits: 4, stamp: strtabs.Add(1)}
	h := strHash("")
	t.slots[h&15] = t.tag(h) | 1
	return t
}

// codeMask selects code+1 in a slot: code+1 ≤ 7/8 of the slots, so it
// fits in bits bits.
func (t *strtab) codeMask() uint32 { return uint32(uint64(1)<<t.bits - 1) }

// tag is the slot's hash bits of a string with hash h: bits of h the slot
// index does not use, in the slot's bits above the code's (none once the
// table has 2^32 slots).
func (t *strtab) tag(h uint64) uint32 { return uint32(h>>32) &^ t.codeMask() }

// len is the number of codes.
func (t *strtab) len() int { return len(t.loc) }

// str returns the string of a code.
func (t *strtab) str(c uint32) string {
	if c == 0 {
		return ""
	}
	l := t.loc[c]
	ch := t.chunks[l>>strOffBits]
	off := int(l & (strChunkMax - 1))
	n, k := binary.Uvarint(ch[off:])
	return unsafe.String(&ch[off+k], int(n))
}

// lookup returns the code of s; ok is false when s was never interned.
func (t *strtab) lookup(s string) (uint32, bool) {
	c, _, _, ok := t.find(s)
	return c, ok
}

// find returns the code of s, or the empty slot where it would go and
// its hash.
func (t *strtab) find(s string) (code uint32, slot, h uint64, ok bool) {
	h = strHash(s)
	mask, cmask, tag := uint64(len(t.slots)-1), t.codeMask(), t.tag(h)
	for i := h & mask; ; i = (i + 1) & mask {
		v := t.slots[i]
		if v == 0 && t.over != nil {
			v = t.over[uint32(i)]
		}
		if v == 0 {
			return 0, i, h, false
		}
		if v&^cmask == tag && t.str(v&cmask-1) == s {
			return v&cmask - 1, i, h, true
		}
	}
}

// codeFlag is the top bit of a code, which no code reaches (code panics
// first): a row field holding a code may keep one flag there (flagged),
// where a bool of its own would pad the row by 4 or 8 bytes.
const codeFlag = 1 << 31

// flagged is a string table code with a flag in its top bit.
type flagged uint32

func withFlag(code uint32, on bool) flagged {
	f := flagged(code)
	f.setFlag(on)
	return f
}

func (f flagged) code() uint32 { return uint32(f) &^ codeFlag }
func (f flagged) flag() bool   { return f&codeFlag != 0 }

func (f *flagged) setFlag(on bool) {
	*f &^= codeFlag
	if on {
		*f |= codeFlag
	}
}

// code returns the code of s, interning it first when new.
func (t *strtab) code(s string) uint32 {
	c, i, h, ok := t.find(s)
	if ok {
		return c
	}
	c = uint32(len(t.loc))
	if c >= codeFlag {
		// Unreachable within store's 4 GiB (two bytes a string at least);
		// rows keep a flag in that bit (flagged).
		panic("strtab: more than 2^31 strings")
	}
	t.loc = append(t.loc, t.store(s))
	if t.readonly {
		if t.over == nil {
			t.over = map[uint32]uint32{}
		}
		t.over[uint32(i)] = t.tag(h) | (c + 1)
		if len(t.over) > overMax(len(t.slots)) {
			t.own()
		}
	} else {
		t.slots[i] = t.tag(h) | (c + 1)
	}
	if overFull(len(t.loc), len(t.slots)) {
		t.grow()
	}
	return c
}

// reserve makes room for n strings in all: a load that knows its size
// then never grows the table on the way, each growth rehashing every
// string held (~10 % of a start from the image at scale 1).
func (t *strtab) reserve(n int) {
	for overFull(n, len(t.slots)) {
		t.grow()
	}
	if cap(t.loc) < n {
		t.loc = slices.Grow(t.loc, n-len(t.loc))
	}
}

// store copies s, after its length, into the chunks and returns its loc.
func (t *strtab) store(s string) uint32 {
	need := binary.MaxVarintLen64 + len(s)
	n := len(t.chunks)
	if n == 0 || cap(t.chunks[n-1])-len(t.chunks[n-1]) < need {
		// Chunks double from 4 KiB (a small dataset stays small) up to
		// strChunkMax; a string larger than that gets a chunk of its own.
		size := 4096
		if n > 0 {
			size = min(2*cap(t.chunks[n-1]), strChunkMax)
		}
		if n == strChunks {
			panic("strtab: more than 4 GiB of strings")
		}
		t.chunks = append(t.chunks, make([]byte, 0, max(size, need)))
		n++
	}
	ch := &t.chunks[n-1]
	off := len(*ch)
	// Shared chunks are at most strChunkMax long and a larger string
	// starts a chunk of its own, so the offset fits.
	*ch = binary.AppendUvarint(*ch, uint64(len(s)))
	*ch = append(*ch, s...)
	return uint32(n-1)<<strOffBits | uint32(off)
}

// overMax bounds the overlay of a table of n slots. An entry costs ~12
// bytes of map where a slot written costs a 4 KiB page copied (until every
// page is), and a state written with the overlay makes every reader
// rebuild the map (~30 ns an entry): at scale 1 (2^20 slots) up to 16,384
// entries, at scale 10 (2^25) 524,288. With 4,096 at scale 1, a start
// applying 5,007 newer rows wrote the slots, 17 ms of page copies.
func overMax(n int) int { return max(1<<14, n>>6) }

// own writes the overlay into the slots, and the slots from then on: the
// pages written become the process's own, copied on write. (Taking the
// slots into the heap instead — 128 MB at scale 10 — raised the peak of a
// 1M-record import into a running server by ~110 MiB: the collector's
// headroom grows with the heap, not with pages copied on write.)
func (t *strtab) own() {
	if !t.readonly {
		return
	}
	for i, v := range t.over {
		t.slots[i] = v
	}
	t.over, t.readonly = nil, false
}

// overPairs is the overlay as (position, slot) pairs by position, as a
// state holds it.
func (t *strtab) overPairs() []uint32 {
	pairs := make([]uint32, 0, 2*len(t.over))
	for _, i := range slices.Sorted(maps.Keys(t.over)) {
		pairs = append(pairs, i, t.over[i])
	}
	return pairs
}

// grow doubles the slots, into the heap: a read-only table's slots are
// read, with its overlay's, and left as they are.
func (t *strtab) grow() {
	old, over, cmask := t.slots, t.over, t.codeMask()
	t.slots, t.bits, t.over, t.readonly = make([]uint32, 2*len(old)), t.bits+1, nil, false
	mask := uint64(len(t.slots) - 1)
	put := func(v uint32) {
		c := v & cmask
		h := strHash(t.str(c - 1))
		i := h & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = t.tag(h) | c
	}
	for _, v := range old {
		if v != 0 {
			put(v)
		}
	}
	for _, v := range over {
		put(v)
	}
	t.mem.drop(old)
	t.mem = nil
}

// strHash is a fixed (unseeded) hash, so a table written to a file hashes
// the same when read back: eight bytes at a time, multiply and fold.
func strHash(s string) uint64 {
	const m = 0x9E3779B97F4A7C15
	h := uint64(len(s)) * m
	for len(s) >= 8 {
		v := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
		hi, lo := bits.Mul64(h^v, m)
		h = hi ^ lo
		s = s[8:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
	}
	hi, lo := bits.Mul64(h^v, m^0xD6E8FEB86659FD93)
	return hi ^ lo
}

// StringChunks returns the chunks holding the string table's bytes, which
// every string the dataset hands out points into: the engine maps the
// pages of those read in place from one state onto the same chunks in the
// next (engine/strings.go).
func (d *Dataset) StringChunks() [][]byte { return slices.Clone(d.strs.chunks) }
