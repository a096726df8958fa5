package metrics

import (
	"fmt"

	"errors"
	"github.com/candor/candor/internal/domain"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// countingMemory hands out heap bytes and counts the chunks asked for and
// the bytes of its own said done.
type countingMemory struct {
	chunks, done int
	given        [][]byte
}

func (m *countingMemory) Chunk(n int) []byte {
	m.chunks++
	b := make([]byte, (n+4095)/4096*4096)
	m.given = append(m.given, b)
	return b
}

func (m *countingMemory) Done(b []byte) error {
	for _, g := range m.given {
		if len(b) > 0 && &b[0] == &g[0] {
			m.done++
			return nil
		}
	}
	return errors.New("not given")
}

// refusingMemory gives nothing, as an arena on a full disk does.
type refusingMemory struct{ asked int }

func (m *refusingMemory) Chunk(int) []byte { m.asked++; return nil }

func (m *refusingMemory) Done([]byte) error { return nil }

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

	// Memory that cannot give (a disk refusing to reserve the space):
	// the chunk comes from the heap, and the rows are kept.
	var full refusingMemory
	var more slab[Dep]
	more.setMem(&full)
	for i := range 1<<slabShift + 1 {
		_, d := more.alloc()
		d.Finished = int64(i)
	}
	if full.asked != 2 || len(more.chunks) != 2 || more.at(1<<slabShift).Finished != 1<<slabShift {
		t.Errorf("a memory refusing %d chunks: %d chunks held, the last row's time %d", full.asked, len(more.chunks), more.at(1<<slabShift).Finished)
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

// Writing the state gives back the chunks the memory gave — also once
// the dataset takes new chunks from the heap again (a state is written
// after the large catch-up that filled the arena has ended).
func TestStateWritingGivesBackChunksOutsideTheHeap(t *testing.T) {
	first, _ := stateTestData(t)
	d := NewDataset(DefaultConfig())
	for _, r := range first[:len(first)/2] {
		d.Apply(r, time.Time{})
	}
	var m countingMemory
	d.SetChunkMemory(&m)
	for _, r := range first[len(first)/2:] {
		d.Apply(r, time.Time{})
	}
	// More deployments than a chunk holds: a chunk from the memory.
	for i := range 1<<slabShift + 1 {
		d.Apply(&domain.Deployment{Meta: domain.Meta{ID: fmt.Sprintf("arena-%d", i), Source: "import"}, Service: "api", Environment: "production",
			FinishedAt: benchEnd.Add(-time.Duration(i) * time.Minute), Status: "success"}, time.Time{})
	}
	d.SetChunkMemory(nil)
	d.Prepare()
	if m.chunks == 0 {
		t.Fatal("no chunk taken from the memory")
	}
	writeStateBytes(t, d)
	if m.done != m.chunks {
		t.Errorf("the state's writing gave back %d of the %d chunks the memory gave", m.done, m.chunks)
	}
}
