package metrics

import "math/bits"

// span locates one list in a codePool.
type span struct{ off, n uint32 }

// codePool keeps short lists of string table codes (a deployment's change
// ids) end to end in one array: 4 bytes a code and 8 a list, where a slice
// of strings per record cost a 24-byte header, 16 bytes a string and an
// allocation for each. A released list leaves a hole; compact closes them
// once they are half the pool.
type codePool struct {
	codes []uint32
	dead  int
}

func (p *codePool) add(cs []uint32) span {
	s := span{off: uint32(len(p.codes)), n: uint32(len(cs))}
	p.codes = append(p.codes, cs...)
	return s
}

func (p *codePool) at(s span) []uint32 { return p.codes[s.off : s.off+s.n : s.off+s.n] }

func (p *codePool) release(s span) { p.dead += int(s.n) }

// compact rewrites the pool without its holes when they are half of it;
// each calls fn with every live list's span to be replaced.
func (p *codePool) compact(each func(fn func(s *span))) {
	if p.dead == 0 || 2*p.dead < len(p.codes) {
		return
	}
	codes := make([]uint32, 0, len(p.codes)-p.dead)
	each(func(s *span) {
		off := uint32(len(codes))
		codes = append(codes, p.at(*s)...)
		s.off = off
	})
	p.codes, p.dead = codes, 0
}

// rowIndex finds rows by a key: an open-addressing hash table (linear
// probing, at most 7/8 full: overFull) of row numbers, sized to its
// entries rather than spanning every code of the string table. When keyOf
// is set, a key is read from its row — an id's code, a row's source and id
// codes — so a slot costs 4 bytes; otherwise the keys (string table codes)
// are kept beside the rows, 8 bytes a slot. Nothing in it is a pointer but keyOf.
//
// A row's key must not change while it is indexed: set replaces a row by
// another with the same key, and clear runs before the row is released.
//
// A slot holds row+1 in its low rowBits bits and a few bits of its key's
// hash above them, so a probe passing another key's slot seldom reads
// that row (a cache miss each).
type rowIndex struct {
	rows  []uint32 // tag | row+1; 0: empty
	keys  []uint32 // the keys when keyOf is nil
	n     int
	shift uint8 // 64 − log2(len(rows))
	keyOf func(row int32) uint64
	// mem is set while rows and keys lie in a dataset state read in
	// place: set writes them there (pages copied on write), and once grow
	// has left them their pages go back (stateMem.drop).
	mem *stateMem
}

const (
	rowBits = 27 // up to 2^27 − 1 rows an index
	rowMask = 1<<rowBits - 1
)

func (x *rowIndex) len() int { return x.n }

func (x *rowIndex) keyAt(slot int) uint64 {
	if x.keyOf != nil {
		return x.keyOf(int32(x.rows[slot]&rowMask) - 1)
	}
	return uint64(x.keys[slot])
}

// overFull says a table of slots (rowIndex, strtab) holding n entries
// must grow. 7/8 full, where it was 3/4: a lookup of a key not held then
// passes ~32 slots on average instead of ~8.5 (4 bytes each, contiguous,
// most turned away by their tag without reading the key), one held ~4.5
// instead of ~2.5, and a table holds a sixth more before it doubles. At
// scale 1 a 1M-record import into a running server took the string
// table past 3/4 of its 2^21 slots and the change index past 3/4 of its
// 2^20: 16 + 8 MiB of new slots in the heap where the state's served
// (docs/performance.md, 2026-12-06 16:23–).
func overFull(n, slots int) bool { return 8*n > 7*slots }

const rowHash = 0x9E3779B97F4A7C15

// home is a key's first slot (the hash's top bits); tag is other bits of
// the hash, kept in the slot above the row.
func (x *rowIndex) home(k uint64) int { return int((k * rowHash) >> x.shift) }
func tag(k uint64) uint32             { return uint32(k*rowHash) &^ rowMask }

// find returns the slot holding key k (ok) or the empty slot ending its
// probe; -1 when the table has no slots.
func (x *rowIndex) find(k uint64) (int, bool) {
	if len(x.rows) == 0 {
		return -1, false
	}
	mask, t := len(x.rows)-1, tag(k)
	for i := x.home(k); ; i = (i + 1) & mask {
		s := x.rows[i]
		if s == 0 {
			return i, false
		}
		if s&^rowMask == t && x.keyAt(i) == k {
			return i, true
		}
	}
}

// get returns the row with key k; ok is false when none has it.
func (x *rowIndex) get(k uint64) (int32, bool) {
	if i, ok := x.find(k); ok {
		return int32(x.rows[i]&rowMask) - 1, true
	}
	return 0, false
}

// set indexes row under key k, replacing the row held under it.
func (x *rowIndex) set(k uint64, row int32) {
	i, ok := x.find(k)
	if !ok && overFull(x.n+1, len(x.rows)) {
		x.grow()
		i, _ = x.find(k)
	}
	if row+1 > rowMask {
		panic("rowIndex: more rows than a slot can name")
	}
	x.rows[i] = tag(k) | uint32(row+1)
	if x.keyOf == nil {
		x.keys[i] = uint32(k)
	}
	if !ok {
		x.n++
	}
}

// clear removes key k, moving back the entries after it in its probe run
// (no tombstones, so lookups never slow down with churn).
func (x *rowIndex) clear(k uint64) {
	i, ok := x.find(k)
	if !ok {
		return
	}
	mask := len(x.rows) - 1
	for j := (i + 1) & mask; x.rows[j] != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if h := x.home(x.keyAt(j)); (i <= j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			x.rows[i] = x.rows[j]
			if x.keyOf == nil {
				x.keys[i] = x.keys[j]
			}
			i = j
		}
	}
	x.rows[i] = 0
	x.n--
}

func (x *rowIndex) grow() {
	old, oldKeys := x.rows, x.keys
	size := max(16, 2*len(old))
	x.rows = make([]uint32, size)
	if x.keyOf == nil {
		x.keys = make([]uint32, size)
	}
	x.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	mask := size - 1
	for j, r := range old {
		if r == 0 {
			continue
		}
		var k uint64
		if x.keyOf != nil {
			k = x.keyOf(int32(r&rowMask) - 1)
		} else {
			k = uint64(oldKeys[j])
		}
		i := x.home(k)
		for x.rows[i] != 0 {
			i = (i + 1) & mask
		}
		x.rows[i] = r
		if x.keyOf == nil {
			x.keys[i] = uint32(k)
		}
	}
	x.mem.drop(old)
	x.mem.drop(oldKeys)
	x.mem = nil
}

// each calls fn with every row held, in no particular order.
func (x *rowIndex) each(fn func(row int32) bool) {
	for _, r := range x.rows {
		if r != 0 && !fn(int32(r&rowMask)-1) {
			return
		}
	}
}
