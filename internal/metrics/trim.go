package metrics

// Trim gives back the room append left at the end of the dataset's
// growable arrays: the time orders, the string table's locations and the
// deployments' change lists. A load grows each of them by appending, and
// append leaves up to a quarter of a large array unused, which at scale 10
// was ~4 bytes a record of the ≤ 130 the dataset may take. The owner calls
// it under the write lock after a load — not after every Prepare, where
// the next append would only grow the array again by copying it.
func (d *Dataset) Trim() {
	d.eachOrder(order.trim)
	// The locations keep the room the state holds after them (locSpare),
	// so that writing the state does not copy them to add it.
	d.strs.loc = clippedWith(d.strs.loc, locSpare(len(d.strs.loc)))
	d.chgRefs.codes = clipped(d.chgRefs.codes)
}

// An order with room worth a copy keeps, when copied, the room a state
// holds after it (orderSpare), as the locations do; one with less is left
// as it is — an order read from a state keeps the state's room, an order
// read as a list of rows has none and gets none (writeOrderOf).
func (s *sorted[T]) trim() {
	if n := len(s.items); cap(s.items)-n >= max(n/8, 64) {
		s.items = append(make([]T, 0, n+orderSpare(n)), s.items...)
	}
}

// clipped returns a copy of a without the room after its length when that
// room is worth a copy (an eighth of it or more), else a itself.
func clipped[T any](a []T) []T { return clippedWith(a, 0) }

// clippedWith is clipped keeping room for spare more items. It copies a to
// add that room only when less than half of it is left: a dataset read
// from the state has used some of it for the strings of the rows newer
// than the state, and copying the locations again after a start (30 MB
// at scale 10) is what the room is there to avoid.
func clippedWith[T any](a []T, spare int) []T {
	if room := cap(a) - len(a); room >= spare/2 && room-spare < max(len(a)/8, 64) {
		return a
	}
	return append(make([]T, 0, len(a)+spare), a...)
}
