package metrics

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// randomText mixes what JSON must escape (quotes, backslashes, control
// characters, HTML's <>&, U+2028/9, invalid UTF-8) with plain text.
func randomText(rng *rand.Rand) string {
	parts := []string{"a", "checkout-pr-676", `"`, `\`, "<b>", "&amp;", ">", "\n", "\t", "\r", "\b", "\f", "\x00", "\x1f", "\x7f",
		"é", "日本", "\u2028", "\u2029", "\xff", "\xe2\x80", "😀", " ", "/"}
	var sb strings.Builder
	for range rng.IntN(6) {
		sb.WriteString(parts[rng.IntN(len(parts))])
	}
	return sb.String()
}

// TestAppendRefsMatchesMarshal: the hand-written encoding of a page of
// drill-down rows is json.Marshal's, byte for byte.
func TestAppendRefsMatchesMarshal(t *testing.T) {
	// A member added to Ref with omitempty would be left out by AppendRefs
	// and by the random rows below alike: the list names what it writes.
	written := []string{"Kind", "ID", "Source", "Value", "Note", "Fields"}
	var members []string
	for f := range reflect.TypeFor[Ref]().Fields() {
		if f.IsExported() {
			members = append(members, f.Name)
		}
	}
	if !slices.Equal(members, written) {
		t.Fatalf("Ref's members are %v, AppendRefs writes %v: add a new one to it, to the rows below and here", members, written)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	values := []any{nil, "text", 3, 2.5, 1e-7, 1e21, -0.0, 123456789.125, true, false,
		time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC), domain.Money(12_340_000), []string{"a", "<b>"}, map[string]int{"x": 1}}
	for n := range 300 {
		var refs []Ref
		if n%50 != 0 {
			refs = make([]Ref, rng.IntN(5))
		}
		for i := range refs {
			r := Ref{Kind: domain.Kind(randomText(rng)), ID: randomText(rng), Source: randomText(rng)}
			if rng.IntN(2) == 0 {
				v := rng.NormFloat64() * 1e3
				if rng.IntN(5) == 0 {
					v = float64(rng.IntN(100))
				}
				r.Value = &v
			}
			if rng.IntN(2) == 0 {
				r.Note = randomText(rng)
			}
			for range rng.IntN(4) {
				r.Fields = append(r.Fields, Field{Name: randomText(rng), Value: values[rng.IntN(len(values))]})
			}
			if rng.IntN(4) == 0 {
				r.Fields = Fields{}
			}
			refs[i] = r
		}
		want, err := json.Marshal(refs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendRefs([]byte("x"), refs)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[1:]) != string(want) {
			t.Fatalf("case %d:\n got %s\nwant %s", n, got[1:], want)
		}
	}
	bad := 0.0
	bad /= bad
	if _, err := AppendRefs(nil, []Ref{{Value: &bad}}); err == nil {
		t.Error("NaN encoded")
	}
}
