package metrics

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

func TestClipped(t *testing.T) {
	for _, c := range []struct {
		len, cap int
		copied   bool
	}{
		{0, 0, false}, {10, 50, false}, {10, 73, false}, {10, 74, true}, // room of 64 or more
		{1000, 1124, false}, {1000, 1125, true}, // room of an eighth or more
	} {
		a := make([]int, c.len, c.cap)
		for i := range a {
			a[i] = i
		}
		got := clipped(a)
		if !slices.Equal(got, a) {
			t.Errorf("len %d cap %d: contents changed", c.len, c.cap)
		}
		if copied := cap(got) != c.cap; copied != c.copied {
			t.Errorf("len %d cap %d: copied %v, want %v (cap now %d)", c.len, c.cap, copied, c.copied, cap(got))
		}
		// A copy may round its capacity up to the allocator's size class,
		// never to room worth another copy.
		if c.copied && cap(got)-len(got) >= max(len(got)/8, 64) {
			t.Errorf("len %d cap %d: copy has cap %d", c.len, c.cap, cap(got))
		}
	}
}

// clippedWith keeps room for the spare asked for — adding it by a copy
// when it is missing — and clips only the room past it worth a copy.
func TestClippedWithSpare(t *testing.T) {
	for _, c := range []struct {
		len, cap, spare int
		copied          bool
	}{
		{1000, 1000, 16, true}, {1000, 1007, 16, true}, // less than half the spare
		{1000, 1008, 16, false}, {1000, 1016, 16, false}, {1000, 1140, 16, false}, // half the spare, up to an eighth past it
		{1000, 1141, 16, true}, // an eighth past the spare
	} {
		a := make([]int, c.len, c.cap)
		for i := range a {
			a[i] = i
		}
		got := clippedWith(a, c.spare)
		if !slices.Equal(got, a) || cap(got)-len(got) < c.spare/2 {
			t.Errorf("len %d cap %d: contents changed or room %d under half of %d", c.len, c.cap, cap(got)-len(got), c.spare)
		}
		if copied := &got[0] != &a[0]; copied != c.copied {
			t.Errorf("len %d cap %d spare %d: copied %v, want %v", c.len, c.cap, c.spare, copied, c.copied)
		}
	}
	// A trimmed dataset's locations hold the state's room: writing the
	// state adds it without copying them.
	d := generated(t, 0.01)
	d.strs.loc = slices.Clip(d.strs.loc)
	d.Trim()
	if w := withSpare(d.strs.loc); &w[0] != &d.strs.loc[0] {
		t.Error("the state's room after the locations was added by a copy after Trim")
	}
	// Read back from the state, a few strings interned, trimmed: the
	// locations stay where they lie, in the state's room.
	back, err := ReadState(DefaultConfig(), [][]byte{writeStateBytes(t, d)}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		back.strs.code(fmt.Sprintf("new-%d", i))
	}
	at := &back.strs.loc[0]
	back.Trim()
	if &back.strs.loc[0] != at {
		t.Error("Trim copied the locations read from the state after a few new strings")
	}
}

// Trim leaves every time order without room worth a copy, and every
// metric's value, breakdown and records as they were.
func TestTrimKeepsResults(t *testing.T) {
	plain, trimmed := generated(t, 0.02), generated(t, 0.02)
	roomy := 0
	trimmed.eachOrder(func(o order) {
		if s, ok := o.(interface{ room() int }); ok && s.room() > 0 {
			roomy++
		}
	})
	trimmed.Trim()
	trimmed.eachOrder(func(o order) {
		if s, ok := o.(interface{ room() int }); ok && s.room() > 0 {
			roomy--
		}
	})
	if roomy <= 0 {
		t.Errorf("Trim clipped no time order (%d fewer with room)", roomy)
	}
	q := Query{AsOf: benchEnd, Window: 30 * day, Records: true}
	for _, id := range IDs() {
		a, errA := plain.Compute(id, q)
		b, errB := trimmed.Compute(id, q)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if (errA == nil) != (errB == nil) || string(ja) != string(jb) {
			t.Errorf("%s: trimmed %s (%v), untrimmed %s (%v)", id, jb, errB, ja, errA)
		}
	}
}

// room is how much room worth a copy an order keeps (clipped's rule).
func (s *sorted[T]) room() int {
	if r := cap(s.items) - len(s.items); r >= max(len(s.items)/8, 64) {
		return r
	}
	return 0
}

// generated is a prepared dataset of a generated organisation.
func generated(t *testing.T, scale float64) *Dataset {
	t.Helper()
	d := NewDataset(DefaultConfig())
	if _, err := generate.Records(generate.Options{Seed: 3, Scale: scale, End: benchEnd}, func(r domain.Record) {
		d.Apply(r, time.Time{})
	}); err != nil {
		t.Fatal(err)
	}
	d.Prepare()
	return d
}
