package metrics

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

// codeIndex maps string table codes to row numbers: one int32 a code,
// holding row+1 (0: none). Codes are dense (every id and name of the
// dataset has one), so an index over the ids of one kind costs 4 bytes
// for each string of the table, where a map cost ~14–26 bytes for each
// entry, and holds no pointer.
type codeIndex struct{ rows []int32 }

// get returns the row of code c; ok is false when it has none.
func (x *codeIndex) get(c uint32) (int32, bool) {
	if int(c) >= len(x.rows) || x.rows[c] == 0 {
		return 0, false
	}
	return x.rows[c] - 1, true
}

func (x *codeIndex) set(c uint32, row int32) {
	if int(c) >= len(x.rows) {
		// Grow by a quarter at least: codes arrive in increasing order
		// while a store is loaded.
		n := max(int(c)+1, len(x.rows)+len(x.rows)/4, 1024)
		x.rows = append(x.rows, make([]int32, n-len(x.rows))...)
	}
	x.rows[c] = row + 1
}

func (x *codeIndex) clear(c uint32) {
	if int(c) < len(x.rows) {
		x.rows[c] = 0
	}
}
