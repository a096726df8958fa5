package metrics

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// Every string interned comes back from its code, the same string always
// gets the same code, and nothing else is found — across table growth,
// chunk boundaries and a string larger than a chunk.
func TestStrtab(t *testing.T) {
	tab := newStrtab()
	if c, ok := tab.lookup(""); !ok || c != 0 || tab.str(0) != "" {
		t.Fatalf(`"" = %d, %v`, c, ok)
	}
	want := map[string]uint32{}
	add := func(s string) {
		c := tab.code(s)
		if old, ok := want[s]; ok && old != c {
			t.Fatalf("%q: code %d, then %d", s, old, c)
		}
		want[s] = c
	}
	big := strings.Repeat("x", 3*strChunkMax/2)
	for i := range 200_000 {
		add(fmt.Sprintf("id-%d", i))
		if i%50_000 == 7 {
			add(big + fmt.Sprint(i))
		}
		add(fmt.Sprintf("id-%d", i/2))
	}
	for s, c := range want {
		if got := tab.str(c); got != s {
			t.Fatalf("code %d: %.20q, want %.20q", c, got, s)
		}
		if got, ok := tab.lookup(s); !ok || got != c {
			t.Fatalf("lookup %.20q = %d, %v; want %d", s, got, ok, c)
		}
	}
	if tab.len() != len(want)+1 {
		t.Errorf("%d codes for %d strings and the empty one", tab.len(), len(want))
	}
	for _, s := range []string{"id-200000", "id-", "x", big} {
		if c, ok := tab.lookup(s); ok {
			t.Errorf("%.20q never interned, found as %d", s, c)
		}
	}
}

// Every slot holds its string's hash bits above its code, and every code
// is in exactly one slot, at every size the table grows through: a slot
// whose tag were wrong would hide its string from every lookup.
func TestStrtabSlotTags(t *testing.T) {
	tab := newStrtab()
	check := func() {
		t.Helper()
		cmask := tab.codeMask()
		seen := make([]bool, tab.len())
		for i, v := range tab.slots {
			if v == 0 {
				continue
			}
			c := v&cmask - 1
			if int(c) >= tab.len() || seen[c] {
				t.Fatalf("%d slots: slot %d holds code %d twice or out of range", len(tab.slots), i, c)
			}
			seen[c] = true
			if want := tab.tag(strHash(tab.str(c))); v&^cmask != want {
				t.Fatalf("%d slots: code %d tagged %#x, want %#x", len(tab.slots), c, v&^cmask, want)
			}
		}
		for c, ok := range seen {
			if !ok {
				t.Fatalf("%d slots: code %d in none", len(tab.slots), c)
			}
		}
	}
	for i := range 100_000 {
		tab.code(fmt.Sprintf("s-%d", i))
		if i&(i+1) == 0 { // at 1, 3, 7, … : every size the table passes
			check()
		}
	}
	check()
	// The code's bits and the tag's share the word: at 2^k slots the tag
	// takes the bits from k up, and none once the code needs all 32.
	for _, c := range []struct {
		bits uint
		mask uint32
	}{{4, 0xf}, {17, 1<<17 - 1}, {31, 1<<31 - 1}, {32, 0xffffffff}} {
		x := &strtab{bits: c.bits}
		if x.codeMask() != c.mask {
			t.Errorf("bits %d: mask %#x, want %#x", c.bits, x.codeMask(), c.mask)
		}
		if tag := x.tag(^uint64(0)); tag != ^c.mask {
			t.Errorf("bits %d: tag %#x, want %#x", c.bits, tag, ^c.mask)
		}
	}
}

// TestStrtabReserve: after reserve(n), n strings go in without the table
// growing, and each keeps the code it was given.
func TestStrtabReserve(t *testing.T) {
	s := newStrtab()
	s.code("before")
	const n = 5000
	s.reserve(n)
	slots := len(s.slots)
	if overFull(n, slots) {
		t.Fatalf("%d slots cannot hold %d strings", slots, n)
	}
	codes := map[string]uint32{}
	for i := range n - 2 {
		k := fmt.Sprintf("id-%d", i)
		codes[k] = s.code(k)
	}
	if len(s.slots) != slots {
		t.Fatalf("grew from %d to %d slots after reserve", slots, len(s.slots))
	}
	for k, c := range codes {
		if got, ok := s.lookup(k); !ok || got != c || s.str(c) != k {
			t.Fatalf("%q: code %d, lookup %d %v, str %q", k, c, got, ok, s.str(c))
		}
	}
	if c, ok := s.lookup("before"); !ok || s.str(c) != "before" {
		t.Fatal("a string interned before reserve was lost")
	}
}

// A table whose slots lie in a state read in place never writes them:
// new strings go to the overlay, are found like the others, and once the
// overlay passes overMax the slots are written, the overlay with them;
// a table that must grow first grows into slots of its own.
func TestStrtabOverlay(t *testing.T) {
	tab := newStrtab()
	// 80,000 strings in 2^17 slots leave room for more than overMax.
	for i := range 80_000 {
		tab.code(fmt.Sprintf("old-%d", i))
	}
	base := slices.Clone(tab.slots)
	tab.readonly = true
	want := map[string]uint32{}
	for i := range 3_000 {
		s := fmt.Sprintf("new-%d", i)
		want[s] = tab.code(s)
		if tab.code(s) != want[s] {
			t.Fatalf("%q interned twice", s)
		}
	}
	if !slices.Equal(tab.slots, base) {
		t.Fatal("a read-only table wrote its slots")
	}
	if len(tab.over) != 3_000 {
		t.Fatalf("%d slots in the overlay, want 3,000", len(tab.over))
	}
	check := func(when string) {
		t.Helper()
		for i := range 80_000 {
			if c, ok := tab.lookup(fmt.Sprintf("old-%d", i)); !ok || tab.str(c) != fmt.Sprintf("old-%d", i) {
				t.Fatalf("%s: old-%d lost", when, i)
			}
		}
		for s, c := range want {
			if got, ok := tab.lookup(s); !ok || got != c {
				t.Fatalf("%s: lookup %q = %d, %v; want %d", when, s, got, ok, c)
			}
		}
		if c, ok := tab.lookup("never"); ok {
			t.Fatalf("%s: a string never interned found as %d", when, c)
		}
	}
	check("with the overlay")
	for i := 3_000; len(tab.over) > 0; i++ {
		s := fmt.Sprintf("new-%d", i)
		want[s] = tab.code(s)
	}
	if tab.readonly || tab.over != nil || len(want) <= overMax(len(base)) || len(tab.slots) != len(base) || slices.Equal(tab.slots, base) {
		t.Fatalf("the overlay was not written into the slots past %d entries (readonly %v, %d new strings, %d slots of %d)", overMax(len(base)), tab.readonly, len(want), len(tab.slots), len(base))
	}
	check("written in place")

	// Growing a read-only table takes its slots first.
	small := newStrtab()
	small.readonly = true
	orig, was := small.slots, slices.Clone(small.slots)
	for i := range 100 {
		s := fmt.Sprintf("s-%d", i)
		if c := small.code(s); small.str(c) != s {
			t.Fatalf("%q: code %d holds %q", s, c, small.str(c))
		}
	}
	for i := range 100 {
		if _, ok := small.lookup(fmt.Sprintf("s-%d", i)); !ok {
			t.Fatalf("s-%d lost as the read-only table grew", i)
		}
	}
	if small.readonly || len(small.slots) <= len(orig) {
		t.Error("a read-only table did not grow into slots of its own")
	}
	if !slices.Equal(orig, was) {
		t.Error("a read-only table wrote its slots as it grew")
	}
}

// A string table read in place gives back its state's slots once it has
// grown out of them — written in place first (own) or not — and never
// slots of its own in the heap.
func TestStrtabGivesBackStateSlotsOnGrowth(t *testing.T) {
	d := NewDataset(DefaultConfig())
	for i := range 30_000 {
		d.strs.code(fmt.Sprintf("s%06d", i))
	}
	for _, own := range []bool{false, true} {
		back, err := ReadState(DefaultConfig(), [][]byte{writeStateBytes(t, d)}, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		var given [][]byte
		back.SetDiscard(func(b []byte) { given = append(given, b) })
		st := back.strs
		state := st.slots
		if own {
			st.own()
		}
		n := len(state)
		for i := 0; len(st.slots) == n; i++ {
			st.code(fmt.Sprintf("new%07d", i))
		}
		if len(given) != 1 || len(given[0]) != 4*n || unsafe.Pointer(unsafe.SliceData(given[0])) != unsafe.Pointer(unsafe.SliceData(state)) {
			t.Fatalf("own %v: grown from %d slots in the state, gave back %d pieces, want its %d bytes", own, n, len(given), 4*n)
		}
		for i := 0; len(st.slots) == 2*n; i++ {
			st.code(fmt.Sprintf("more%07d", i))
		}
		if len(given) != 1 {
			t.Errorf("own %v: grown again from slots in the heap, gave back %d pieces, want none more", own, len(given)-1)
		}
		for i := range 100 {
			if c, ok := st.lookup(fmt.Sprintf("s%06d", i*300)); !ok || st.str(c) != fmt.Sprintf("s%06d", i*300) {
				t.Fatalf("own %v: s%06d lost after growing", own, i*300)
			}
		}
	}
}

// So does an id index read in place: applying rows writes its slots in
// the state, and once it grows out of them their pages go back.
func TestIndexGivesBackStateSlotsOnGrowth(t *testing.T) {
	d := load(t, nil, dailyDeps(t, "a", "api", "2026-01-01", 100, 0))
	back, err := ReadState(DefaultConfig(), [][]byte{writeStateBytes(t, d)}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var given [][]byte
	back.SetDiscard(func(b []byte) { given = append(given, b) })
	state := back.depByID.rows
	for i := 0; len(back.depByID.rows) == len(state); i++ {
		apply(t, back, fmt.Sprintf(`{"kind":"deployment","id":"n%04d","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`, i))
	}
	found := false
	for _, b := range given {
		found = found || unsafe.Pointer(unsafe.SliceData(b)) == unsafe.Pointer(unsafe.SliceData(state)) && len(b) == 4*len(state)
	}
	if !found {
		t.Fatalf("the deployments' id index grew out of its %d slots in the state; pieces given back: %d, none of them those slots", len(state), len(given))
	}
	if back.depByID.mem != nil {
		t.Error("the index grown into the heap still names the state")
	}
	// A dataset built from rows gives nothing back when it grows.
	d.SetDiscard(func([]byte) { t.Error("a dataset not read from a state gave back bytes") })
	for i := range 200 {
		apply(t, d, fmt.Sprintf(`{"kind":"deployment","id":"m%04d","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`, i))
	}
}
