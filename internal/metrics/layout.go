package metrics

import "iter"

// Access to the deployments and changes by key, id code and row.

// keyCodes returns the codes of a key's source and id; ok is false when
// the string table lacks either, so that no record holds the key. The
// lookups by key rest on lookups by codes, which a ref that knows its
// codes (refAt) calls directly.
func (d *Dataset) keyCodes(k recKey) (src, id uint32, ok bool) {
	id, ok1 := d.codeOf(k.id)
	src, ok2 := d.codeOf(k.source)
	return src, id, ok1 && ok2
}

// dep returns the deployment with a key, or nil.
func (d *Dataset) dep(k recKey) *Dep {
	if src, id, ok := d.keyCodes(k); ok {
		return d.depByCodes(src, id)
	}
	return nil
}

// depByCodes returns the deployment with the source and id of these
// codes, or nil.
func (d *Dataset) depByCodes(src, id uint32) *Dep {
	if i := chainFind(&d.deps, &d.depByID, id, src); i >= 0 {
		return d.deps.at(i)
	}
	return nil
}

// keyCode is the rowCode of a key; ok is false when no record holds its
// source or id.
func (d *Dataset) keyCode(k recKey) (uint64, bool) {
	src, id, ok := d.keyCodes(k)
	return rowCode(src, id), ok
}

// incident returns the incident with a key, or nil.
func (d *Dataset) incident(k recKey) *Inc {
	if c, ok := d.keyCode(k); ok {
		return d.incidents[c]
	}
	return nil
}

// depRef returns the deployment of a row+1 reference, nil for 0.
func (d *Dataset) depRef(r int32) *Dep {
	if r == 0 {
		return nil
	}
	return d.deps.at(r - 1)
}

// depsWithID yields the deployments carrying an id, oldest first.
func (d *Dataset) depsWithID(id uint32) iter.Seq[*Dep] {
	return func(yield func(*Dep) bool) {
		for i := range chainRows(&d.deps, &d.depByID, id) {
			if !yield(d.deps.at(i)) {
				return
			}
		}
	}
}

// allDeps yields every deployment, in no particular order.
func (d *Dataset) allDeps() iter.Seq[*Dep] {
	return func(yield func(*Dep) bool) {
		for i := range d.deps.n {
			if x := d.deps.at(i); x.id != 0 && !yield(x) {
				return
			}
		}
	}
}

// listed returns the change ids a deployment lists (codes, no repeats).
func (d *Dataset) listed(x *Dep) []uint32 { return d.chgRefs.at(x.changes) }

// changeRow returns the row of the change with a key, or -1.
func (d *Dataset) changeRow(k recKey) int32 {
	if src, id, ok := d.keyCodes(k); ok {
		return d.changeRowByCodes(src, id)
	}
	return -1
}

// changeRowByCodes returns the row of the change with the source and id
// of these codes, or -1.
func (d *Dataset) changeRowByCodes(src, id uint32) int32 {
	return chainFind(&d.chgs, &d.changeByID, id, src)
}

// change returns a copy of the change with a key, or nil.
func (d *Dataset) change(k recKey) *Chg {
	i := d.changeRow(k)
	if i < 0 {
		return nil
	}
	c := d.chgView(i)
	return &c
}

// chgView is the change in row i as a metric sees it.
func (d *Dataset) chgView(i int32) Chg {
	c, t := d.chgs.at(i), d.chgTimesOf(i)
	return Chg{ID: d.strs.str(c.id), Source: d.strs.str(c.srcCode()), Service: d.strs.str(c.svc), Merged: t.merged, Authored: t.authored,
		Opened: t.opened, FirstReview: t.firstReview, row: i}
}

// changesMergedBy counts the changes merged at or before at and finds the
// latest merge among them (ok false: none). Changes keep no kindTimes: a
// change exists from its merge and has no other data time, and svcChanges
// already holds every change by merge time, per service — a search per
// service instead of 8 bytes a change.
func (d *Dataset) changesMergedBy(at int64) (n int, last int64, ok bool) {
	for _, s := range d.svcChanges {
		i := s.upperBound(at)
		n += i
		if i > 0 {
			if t := d.chgMerged(s.items[i-1]); !ok || t > last {
				last, ok = t, true
			}
		}
	}
	return n, last, ok
}

// chgsWithID yields the rows of the changes carrying an id, oldest first.
func (d *Dataset) chgsWithID(id uint32) iter.Seq[int32] { return chainRows(&d.chgs, &d.changeByID, id) }

// sharedChangeID reports whether several sources have a change with id.
func (d *Dataset) sharedChangeID(id uint32) bool {
	i, ok := d.changeByID.get(uint64(id))
	return ok && d.chgs.at(i).next != 0
}

// allChanges yields the row of every change, in no particular order.
func (d *Dataset) allChanges() iter.Seq[int32] {
	return func(yield func(int32) bool) {
		for i := range d.chgs.n {
			if d.chgs.at(i).id != 0 && !yield(i) {
				return
			}
		}
	}
}

// A change request is usually carried by one or two deployments: an index
// slot (rowIndex, keyed by the first one's change request) and a 4-byte
// link each, where a slice per change request cost ~50 bytes a deployment.

// depsWithCR yields the deployments carrying a change request (a code),
// in the order they arrived.
func (d *Dataset) depsWithCR(cr uint32) iter.Seq[*Dep] {
	return func(yield func(*Dep) bool) {
		i, ok := d.depsByCR.get(uint64(cr))
		for ok {
			x := d.deps.at(i)
			if !yield(x) {
				return
			}
			i, ok = x.crNext-1, x.crNext != 0
		}
	}
}

// addCR puts x last among the deployments carrying its change request.
func (d *Dataset) addCR(x *Dep) {
	i, ok := d.depsByCR.get(uint64(x.cr))
	if !ok {
		d.depsByCR.set(uint64(x.cr), x.row)
		return
	}
	for y := d.deps.at(i); ; y = d.deps.at(y.crNext - 1) {
		if y.crNext == 0 {
			y.crNext = x.row + 1
			return
		}
	}
}

// removeCR takes x out of the deployments carrying its change request.
func (d *Dataset) removeCR(x *Dep) {
	i, ok := d.depsByCR.get(uint64(x.cr))
	if !ok {
		return
	}
	if i == x.row {
		if x.crNext == 0 {
			d.depsByCR.clear(uint64(x.cr))
		} else {
			d.depsByCR.set(uint64(x.cr), x.crNext-1)
		}
		x.crNext = 0
		return
	}
	for y := d.deps.at(i); y.crNext != 0; y = d.deps.at(y.crNext - 1) {
		if y.crNext-1 == x.row {
			y.crNext, x.crNext = x.crNext, 0
			return
		}
	}
}
