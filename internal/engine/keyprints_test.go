package engine

import (
	"fmt"
	"testing"

	"github.com/candor/candor/internal/domain"
)

// The set of the keys since the previous image: every key added is found
// once sealed, keys added twice count once, and keys that differ only in
// where one string ends and the next begins are told apart.
func TestKeyPrints(t *testing.T) {
	keys := func(n int) []domain.Key {
		var out []domain.Key
		for i := range n {
			out = append(out, domain.Key{Kind: domain.Kind("change"), Source: "gh", ID: fmt.Sprint("c", i)})
		}
		return out
	}
	in := keys(5000)
	p := newKeyPrints(100) // fewer than added: the list grows
	for i, k := range in {
		p.add(k)
		if i%3 == 0 {
			p.add(k) // a key updated again since
		}
	}
	p.seal()
	if p.len() != len(in) {
		t.Errorf("len %d, want %d distinct keys", p.len(), len(in))
	}
	for _, k := range in {
		if !p.has(k) {
			t.Fatalf("%v added, not found", k)
		}
	}
	for _, k := range []domain.Key{
		{Kind: "change", Source: "gh", ID: "c5000"},
		{Kind: "change", Source: "gl", ID: "c1"},
		{Kind: "deployment", Source: "gh", ID: "c1"},
		{Kind: "change", Source: "ghc", ID: "1"}, // "gh"+"c1" moved across the boundary
	} {
		if p.has(k) {
			t.Errorf("%v found, never added", k)
		}
	}
	empty := newKeyPrints(0)
	empty.seal()
	if empty.len() != 0 || empty.has(in[0]) {
		t.Error("an empty set holds something")
	}
}
