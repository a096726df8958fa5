package jsonenc

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomValue builds a JSON-shaped value from r: nesting, empty and
// one-element containers, and strings full of the bytes that matter.
func randomValue(r *rand.Rand, depth int) any {
	const alphabet = `ab"\{}[],: é<>&` + "\n\t\x01"
	str := func() string {
		var b strings.Builder
		for n := r.IntN(6); n > 0; n-- {
			b.WriteString(string([]rune(alphabet)[r.IntN(len([]rune(alphabet)))]))
		}
		return b.String()
	}
	k := r.IntN(8)
	if depth > 4 {
		k %= 4
	}
	switch k {
	case 0:
		return str()
	case 1:
		return r.Float64() * 1e6
	case 2:
		return r.IntN(2) == 0
	case 3:
		return nil
	case 4, 5:
		m := map[string]any{}
		for n := r.IntN(4); n > 0; n-- {
			m[str()] = randomValue(r, depth+1)
		}
		return m
	default:
		a := []any{}
		for n := r.IntN(4); n > 0; n-- {
			a = append(a, randomValue(r, depth+1))
		}
		return a
	}
}

func TestAppendIndentMatchesJSONIndent(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 2026))
	for i := range 5000 {
		v := randomValue(r, 0)
		src, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, src, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := AppendIndent(nil, src); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("value %d, %s:\ngot\n%s\nwant\n%s", i, src, got, want.Bytes())
		}
	}
}

func FuzzAppendIndent(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{},[]],"b":"x\"y\\"}`, `"\\\\\""`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		src, err := json.Marshal(v)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, src, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := AppendIndent(nil, src); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s:\ngot\n%s\nwant\n%s", src, got, want.Bytes())
		}
	})
}
