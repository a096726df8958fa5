package metrics

import "slices"

// Trim gives back the room append left at the end of the dataset's
// growable arrays: the time orders, the string table's locations and the
// deployments' change lists. A load grows each of them by appending, and
// append leaves up to a quarter of a large array unused, which at scale 10
// was ~4 bytes a record of the ≤ 130 the dataset may take. The owner calls
// it under the write lock after a load — not after every Prepare, where
// the next append would only grow the array again by copying it.
func (d *Dataset) Trim() {
	d.eachOrder(order.trim)
	d.strs.loc = clipped(d.strs.loc)
	d.chgRefs.codes = clipped(d.chgRefs.codes)
}

func (s *sorted[T]) trim() { s.items = clipped(s.items) }

// clipped returns a copy of a without the room after its length when that
// room is worth a copy (an eighth of it or more), else a itself.
func clipped[T any](a []T) []T {
	if cap(a)-len(a) < max(len(a)/8, 64) {
		return a
	}
	return slices.Clone(a)
}
