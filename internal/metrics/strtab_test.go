package metrics

import (
	"fmt"
	"strings"
	"testing"
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
