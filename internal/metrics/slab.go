package metrics

import (
	"reflect"
	"unsafe"
)

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
	// mem, when set, gives the chunks allocated from then on
	// (SetChunkMemory): rows hold no pointer, so they may live outside
	// the Go heap. from is the memory that gave any of them, kept once
	// mem is taken back, for done.
	mem, from ChunkMemory
}

// ChunkMemory is memory outside the Go heap for the chunks of a dataset's
// rows (image.Arena: a file mapped shared, whose pages can leave the
// resident set without a byte lost). Chunk returns n zeroed bytes, or nil
// when it cannot (the chunk is then allocated on the heap); Done says the
// bytes have been read for now (a state's writing), so their pages may go
// back until they are next read.
type ChunkMemory interface {
	Chunk(n int) []byte
	Done(b []byte) error
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
		s.chunks = append(s.chunks, s.newChunk())
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

// newChunk allocates a chunk of zeroed rows, from mem when it is set and
// gives the memory.
func (s *slab[T]) newChunk() []T {
	if s.mem != nil {
		var zero T
		if b := s.mem.Chunk(1 << slabShift * int(unsafe.Sizeof(zero))); b != nil {
			s.from = s.mem
			return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), 1<<slabShift)
		}
	}
	return make([]T, 1<<slabShift)
}

// done tells the memory chunk c came from that it has been read for now —
// also once the slab takes its new chunks from the heap again: a state is
// written after the large catch-up that filled the arena has ended. The
// memory refuses chunks it did not give (the heap's, a state's).
func (s *slab[T]) done(c []T) {
	if s.from == nil || len(c) == 0 {
		return
	}
	var zero T
	_ = s.from.Done(unsafe.Slice((*byte)(unsafe.Pointer(&c[0])), len(c)*int(unsafe.Sizeof(zero))))
}

// setMem has the chunks allocated from now on come from m (nil: the
// heap) — unless T holds a pointer, which the collector must see: such a
// slab keeps its chunks in the heap whatever it is given.
func (s *slab[T]) setMem(m ChunkMemory) {
	if m != nil && hasPointers(reflect.TypeFor[T]()) {
		m = nil
	}
	s.mem = m
}

// hasPointers reports whether a value of type t holds a pointer the
// collector must see.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return false
}
