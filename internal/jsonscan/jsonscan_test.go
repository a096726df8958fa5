package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// whole reports whether b is one JSON value and nothing else, by Value.
func whole(b []byte) bool {
	end, ok := Value(b, SkipSpace(b, 0), 0)
	return ok && SkipSpace(b, end) == len(b)
}

// depth is how deep b nests (counting brackets outside strings, roughly:
// enough to tell a document too deep for Value).
func depth(b []byte) int {
	d, most, in := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == '[' || c == '{'):
			d++
			most = max(most, d)
		case !in && (c == ']' || c == '}'):
			d--
		}
	}
	return most
}

// Value accepts exactly what encoding/json accepts, up to MaxDepth.
func FuzzValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,"x\u00e9\n",true,false,null,{}]}`, `"\ud800"`, `[1,]`, `{"a" 1}`, `01`, `1.`, `-`, `"` + "\x7f\xff" + `"`,
		" [ ] ", `{"a":{"b":{"c":[[[]]]}}}`, strings.Repeat("[", 70) + strings.Repeat("]", 70), `"\x"`, `"abc`, `tru`, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := whole(b), json.Valid(b)
		if got != want && !(want && depth(b) >= MaxDepth) {
			t.Fatalf("Value says %v, encoding/json %v, for %q", got, want, b)
		}
	})
}

func TestStringEnds(t *testing.T) {
	for s, want := range map[string]int{`"plain" x`: 7, `"a\"b"`: 6, `"\u0041"z`: 8, `"é"`: 4} {
		if end, ok := String([]byte(s), 0); !ok || end != want {
			t.Errorf("String(%q) = %d %v, want %d", s, end, ok, want)
		}
	}
}
