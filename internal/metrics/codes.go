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
