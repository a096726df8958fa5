package metrics

// slab holds one kind's records in fixed chunks: a record keeps its slot
// (its row number) and its address while it lives, whatever is added
// after it, and the slot of a removed record is reused. Growing never
// copies what is held — a doubling slice would copy everything at each
// step and leave up to half its capacity unused — and rows can refer to
// each other by 4-byte row numbers instead of pointers.
type slab[T any] struct {
	chunks [][]T
	n      int32   // slots ever used
	free   []int32 // released slots, reused first
}

// slabShift sets 2,048 records a chunk. A chunk is a large allocation,
// which the Go runtime rounds up to whole 8 KiB pages: 2,048 rows of any
// size that is a multiple of 4 fill their pages exactly, where 1,024 rows
// of 52 bytes (a change) left half a page unused — as much as the 4 bytes
// the row saves.
const slabShift = 11

// at returns the record in slot i.
func (s *slab[T]) at(i int32) *T { return &s.chunks[i>>slabShift][i&(1<<slabShift-1)] }

// alloc returns a zeroed free slot and its record, for the caller to fill.
func (s *slab[T]) alloc() (int32, *T) {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i, s.at(i)
	}
	i := s.n
	if int(i>>slabShift) == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, 1<<slabShift))
	}
	s.n++
	return i, s.at(i)
}

// release clears slot i (so what it referred to can be collected) and
// makes it free.
func (s *slab[T]) release(i int32) {
	var zero T
	*s.at(i) = zero
	s.free = append(s.free, i)
}

// live is the number of records held.
func (s *slab[T]) live() int { return int(s.n) - len(s.free) }
