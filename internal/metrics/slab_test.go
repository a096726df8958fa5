package metrics

import (
	"reflect"
	"testing"
	"unsafe"
)

// countingMemory hands out heap bytes and counts the chunks asked for.
type countingMemory struct{ chunks int }

func (m *countingMemory) Chunk(n int) []byte {
	m.chunks++
	return make([]byte, (n+4095)/4096*4096)
}

func (m *countingMemory) Done([]byte) error { return nil }

// A slab given memory outside the heap takes its new chunks there only
// when its rows hold no pointer: the collector does not scan that memory,
// and a pointer held only there would not keep what it points to alive.
func TestSlabMemoryOnlyForRowsWithoutPointers(t *testing.T) {
	var m countingMemory
	var rows slab[Dep]
	rows.setMem(&m)
	for range 3 << slabShift {
		rows.alloc()
	}
	if m.chunks != 3 {
		t.Errorf("a slab of %d deployments took %d chunks from its memory, want 3", 3<<slabShift, m.chunks)
	}
	if c := rows.chunks[2]; len(c) != 1<<slabShift || uintptr(unsafe.Pointer(&c[0]))%4096 != 0 {
		t.Errorf("a chunk of %d rows at %#x", len(c), uintptr(unsafe.Pointer(&c[0])))
	}
	rows.setMem(nil)
	rows.alloc()
	if m.chunks != 3 {
		t.Error("a slab whose memory was taken back still took a chunk from it")
	}

	type withPointer struct {
		at   int64
		name string
	}
	var m2 countingMemory
	var named slab[withPointer]
	named.setMem(&m2)
	for range 2 << slabShift {
		named.alloc()
	}
	if m2.chunks != 0 || named.mem != nil {
		t.Errorf("a slab of rows holding a string took %d chunks outside the heap", m2.chunks)
	}
	for _, c := range []struct {
		v    any
		want bool
	}{{Dep{}, false}, {chgRow{}, false}, {ticketRow{}, false}, {withPointer{}, true}, {[2]*int{}, true}, {[0]*int{}, false}, {struct{ f func() }{}, true}} {
		if got := hasPointers(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("hasPointers(%T) = %v", c.v, got)
		}
	}
}
