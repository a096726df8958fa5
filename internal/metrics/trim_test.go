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

// A dataset read from its state in place takes newer rows without copying
// what the state holds: the time orders append into the room the state
// keeps after them, and the string table's slots are never written (new
// strings go to the overlay, which the next state keeps). That state read
// back, in place or as a copy, computes what the dataset built from the
// rows does.
func TestStateTakesNewerRowsInPlace(t *testing.T) {
	built := generated(t, 0.01)
	built.Trim()
	back, err := ReadState(DefaultConfig(), [][]byte{writeStateBytes(t, built)}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	prod, born := &back.prodDeps.items[0], &back.times[domain.KindDeployment].born.items[0]
	slots := slices.Clone(back.strs.slots)
	for i := range 8 {
		at := benchEnd.Add(-time.Duration(i+1) * time.Hour)
		for _, d := range []*Dataset{built, back} {
			d.Apply(&domain.Deployment{Meta: domain.Meta{ID: fmt.Sprintf("newer-%d", i), Source: "test"}, Service: "newer-service", Environment: "production", FinishedAt: at, Status: "success"}, time.Time{})
		}
	}
	for _, d := range []*Dataset{built, back} {
		d.Prepare()
		d.Trim()
	}
	if &back.prodDeps.items[0] != prod || &back.times[domain.KindDeployment].born.items[0] != born {
		t.Error("an order read from the state was copied to take 8 newer deployments")
	}
	if !slices.Equal(back.strs.slots, slots) {
		t.Error("the string table read from the state wrote its slots")
	}
	over := len(back.strs.over)
	if over < 9 { // the ids and the service
		t.Fatalf("%d new strings in the overlay, want 9 or more", over)
	}
	again := writeStateBytes(t, back)
	want := stateView(t, built)
	for _, keep := range []bool{true, false} {
		d, err := ReadState(DefaultConfig(), [][]byte{again}, keep, nil)
		if err != nil {
			t.Fatal(err)
		}
		if keep != d.strs.readonly || keep != (len(d.strs.over) == over) {
			t.Errorf("read in place %v: read-only %v with %d overlay slots, %d written", keep, d.strs.readonly, len(d.strs.over), over)
		}
		sameView(t, fmt.Sprintf("read in place %v", keep), stateView(t, d), want)
	}
}
