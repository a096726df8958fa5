package metrics

// Deployments and changes are kept in one index from id code to row. The
// same id from another source — rare, but allowed (SPEC §1 keys records by
// kind, source and id) — hangs off the first in a chain, oldest first; a
// reference to the id resolves among them by SPEC §2 (resolveRef). One index
// instead of a by-key map plus a by-id map of lists saves a map entry a
// record.

// chainRow is a record in such a chain.
type chainRow interface {
	link() *int32 // row+1 of its next namesake; 0: none
	// follows says a namesake precedes it in the chain, so whether an id
	// is shared is known from its record without a lookup of the head.
	follows() bool
	setFollows(bool)
	srcCode() uint32
}

func (x *Dep) link() *int32         { return &x.next }
func (x *Dep) follows() bool        { return x.notFirst }
func (x *Dep) setFollows(f bool)    { x.notFirst = f }
func (x *Dep) srcCode() uint32      { return x.src }
func (c *chgRow) link() *int32      { return &c.next }
func (c *chgRow) follows() bool     { return c.src.flag() }
func (c *chgRow) setFollows(f bool) { c.src.setFlag(f) }
func (c *chgRow) srcCode() uint32   { return c.src.code() }
func (o *oppRow) link() *int32      { return &o.next }
func (o *oppRow) follows() bool     { return o.notFirst }
func (o *oppRow) setFollows(f bool) { o.notFirst = f }
func (o *oppRow) srcCode() uint32   { return o.source }

// shared reports whether another record has the id of p.
func shared[T any, P interface {
	*T
	chainRow
}](p P) bool {
	return *p.link() != 0 || p.follows()
}

// chainFind returns the row of the record of source src in the chain of
// id, or -1.
func chainFind[T any, P interface {
	*T
	chainRow
}](s *slab[T], head *rowIndex, id, src uint32) int32 {
	i, ok := head.get(uint64(id))
	if !ok {
		return -1
	}
	for {
		p := P(s.at(i))
		if p.srcCode() == src {
			return i
		}
		n := *p.link()
		if n == 0 {
			return -1
		}
		i = n - 1
	}
}

// chainAppend adds row i at the end of the chain of id.
func chainAppend[T any, P interface {
	*T
	chainRow
}](s *slab[T], head *rowIndex, id uint32, i int32) {
	j, ok := head.get(uint64(id))
	if !ok {
		head.set(uint64(id), i)
		return
	}
	P(s.at(i)).setFollows(true)
	for {
		l := P(s.at(j)).link()
		if *l == 0 {
			*l = i + 1
			return
		}
		j = *l - 1
	}
}

// chainRemove takes row i out of the chain of id.
func chainRemove[T any, P interface {
	*T
	chainRow
}](s *slab[T], head *rowIndex, id uint32, i int32) {
	own := P(s.at(i)).link()
	j, ok := head.get(uint64(id))
	if !ok {
		return
	}
	if j == i {
		if *own == 0 {
			head.clear(uint64(id))
		} else {
			head.set(uint64(id), *own-1)
			P(s.at(*own - 1)).setFollows(false)
		}
		*own = 0
		return
	}
	for {
		l := P(s.at(j)).link()
		if *l == 0 {
			return
		}
		if *l-1 == i {
			*l = *own
			*own = 0
			P(s.at(i)).setFollows(false)
			return
		}
		j = *l - 1
	}
}

// chainRows yields the rows of the chain of id, oldest first.
func chainRows[T any, P interface {
	*T
	chainRow
}](s *slab[T], head *rowIndex, id uint32) func(yield func(int32) bool) {
	return func(yield func(int32) bool) {
		i, ok := head.get(uint64(id))
		if !ok {
			return
		}
		for {
			if !yield(i) {
				return
			}
			n := *P(s.at(i)).link()
			if n == 0 {
				return
			}
			i = n - 1
		}
	}
}
