package metrics

// Deployments and changes are kept in one map by id. The same id from
// another source — rare, but allowed (SPEC §1 keys records by kind, source
// and id) — hangs off the first in a chain, oldest first; a reference to
// the id resolves among them by SPEC §2 (resolveRef). One map instead of a
// by-key map plus a by-id map of slices saves ~80 bytes a record.

// chainLink is a record in such a chain.
type chainLink[T comparable] interface {
	comparable
	link() *T // where its next namesake is kept
	source() string
}

func (x *Dep) link() *(*Dep)  { return &x.next }
func (x *Dep) source() string { return x.Source }
func (c *Chg) link() *(*Chg)  { return &c.next }
func (c *Chg) source() string { return c.Source }

// chainFind returns the record of a source in the chain of id, or nil.
func chainFind[T chainLink[T]](m map[string]T, k recKey) T {
	var none T
	for x := m[k.id]; x != none; x = *x.link() {
		if x.source() == k.source {
			return x
		}
	}
	return none
}

// chainAppend adds x at the end of the chain of id.
func chainAppend[T chainLink[T]](m map[string]T, id string, x T) {
	var none T
	p, ok := m[id]
	if !ok || p == none {
		m[id] = x
		return
	}
	for *p.link() != none {
		p = *p.link()
	}
	*p.link() = x
}

// chainRemove takes x out of the chain of id; it reports whether x was in.
func chainRemove[T chainLink[T]](m map[string]T, id string, x T) bool {
	var none T
	p := m[id]
	if p == x {
		if next := *x.link(); next == none {
			delete(m, id)
		} else {
			m[id] = next
		}
		*x.link() = none
		return true
	}
	for ; p != none; p = *p.link() {
		if *p.link() == x {
			*p.link() = *x.link()
			*x.link() = none
			return true
		}
	}
	return false
}
